# Tether's per-session confinement, applied inside the runtime's jail (a bubblewrap mount
# namespace without the data directory; see io.tether.runtime.sandbox.Sandbox). Standard
# library only: system calls through ctypes, loaded once by the fork server and shared
# with its children copy-on-write.
#
# Cost: every page a child writes is a copy-on-write fault (~10 us on a VM) and stays the
# child's own memory. So the fork server makes in advance whatever it can (the ctypes
# functions, the uid maps, packed structures, the list of rules), the children use only
# C-level modules (_signal, not signal: that one builds enums), and a session's per-session
# work is done once, in its init before it forks the worker, so that the two share those
# pages instead of each copying them.
#
# A session is three processes deep, all forked before anyone asks for it:
#   launcher  a child of the fork server: unshares a user, PID, mount, IPC (and, without
#             network, network) namespace, forks the init, maps its one uid, tells the
#             init's worker and the fork server the init's pid and exits;
#   init      PID 1 of the session's PID namespace: forks the worker, reaps every orphan
#             of the session and exits with the worker's status. When it exits, for
#             whatever reason (the worker ended, the JVM killed it), the kernel kills every
#             process left in the namespace: daemons that called setsid, grandchildren,
#             stopped processes.
#   worker    the interpreter: first mounts the session's own /proc, a private /tmp and
#             /dev/shm, hides the fork server's socket, builds the session's Landlock
#             ruleset (without its working directory), sets no_new_privs and drops every
#             capability. Landlock restricts a thread, not a process (threads made
#             later inherit it): its output thread, started before the request, restricts
#             itself to the ruleset as it is (no working directory: it needs no file); when
#             a request names the working directory, the main thread adds it read-write and
#             restricts itself (files, TCP, signals and abstract sockets out of its domain),
#             before any user code runs and after the output thread has done so.
# The session's processes count against RLIMIT_NPROC in their own user namespace, so the
# process limit is per session, also when Tether runs as root.
#
# Run as `python3 -S -E sandbox.py --probe` (inside the jail) it prints what works here.

import ctypes
import os
import struct

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
# Looked up here, in the fork server, once: a lookup in a child would allocate (and copy pages).
_unshare = _libc.unshare
_mount = _libc.mount
_mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
_prctl = _libc.prctl
_capset = _libc.capset

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_CAPBSET_DROP = 24
PR_SET_PDEATHSIG = 1

# Landlock (linux/landlock.h). The syscall numbers are the same on every architecture that
# has them (the unified table).
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
RULE_PATH_BENEATH = 1
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
# Per ABI version: every file-system right it knows (v2 adds REFER, v3 TRUNCATE, v5 IOCTL_DEV).
_FS_RIGHTS = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
FS_READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2            # v4
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1, 2         # v6


def _fail(what):
    err = ctypes.get_errno()
    raise OSError(err, '%s: %s' % (what, os.strerror(err)))


def landlock_abi():
    """The Landlock ABI version the kernel offers, 0 when none."""
    v = _syscall(SYS_CREATE_RULESET, None, 0, 1)
    return v if v > 0 else 0


def fs_rights(abi):
    return _FS_RIGHTS.get(abi, (1 << 16) - 1)


def unshare(flags):
    if _unshare(flags) != 0:
        _fail('unshare')


def _write(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text)
    finally:
        os.close(fd)


def mount(source, target, fstype, flags, data=None):
    if _mount(source, target, fstype, flags, data) != 0:
        _fail('mount ' + target.decode())


def subreaper():
    """Orphans of this process's descendants become its children (the fork server's)."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


class Config:
    """What the JVM asked for, from `--sandbox` (see Sandbox.forkServerArguments)."""

    def __init__(self, text):
        fields = dict(f.split('=', 1) for f in text.split(';') if f)
        self.network = fields.get('network') == '1'           # this worker may use the network
        self.read_only = [p for p in fields.get('ro', '').split(':') if p]
        self.hide = [p for p in fields.get('hide', '').split(':') if p]
        self.tmp_size = fields.get('tmp', '64m')
        self.shm_size = fields.get('shm', '16m')
        self.landlock = int(fields.get('landlock', '0'))      # the ABI to use, 0 for none
        self.sessions = fields.get('sessions') == '1'          # a namespace set per session
        # Made here, once, for every session (see the top of this file).
        self.flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | (0 if self.network else CLONE_NEWNET)
        self.uid_map = b'0 %d 1' % os.getuid()
        self.gid_map = b'0 %d 1' % os.getgid()
        self.mounts = [(b'proc', b'/proc', b'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC, None)]
        if self.tmp_size != '0':
            self.mounts.append((b'tmpfs', b'/tmp', b'tmpfs', MS_NOSUID | MS_NODEV,
                                b'mode=1777,size=' + self.tmp_size.encode()))
        if os.path.isdir('/dev/shm'):
            self.mounts.append((b'tmpfs', b'/dev/shm', b'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                b'mode=1777,size=' + self.shm_size.encode()))
        for path in self.hide:
            self.mounts.append((b'tmpfs', path.encode(), b'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                b'size=4k,mode=0'))
        self.ruleset_attr = _ruleset_attr(self)
        self.rules = _base_rules(self)


# --- launcher and init (before any request) ----------------------------------------------

def launch(config, after_fork, report):
    """Called in a child of the fork server: makes the session's namespaces and its init,
    calls report(init's pid) and exits. The init calls after_fork(pid, ruleset_fd) in the
    worker it forks (pid: the init's pid as the JVM sees it; the ruleset fd or -1);
    after_fork never returns."""
    unshare(config.flags)
    r, w = os.pipe()
    pid = os.fork()
    if pid:
        # The uid maps, then the init's pid in our (the fork server's) PID namespace, which
        # is the JVM's, to its worker. Written here rather than before the fork, the pages
        # this takes are the launcher's alone, gone when it exits.
        os.close(r)
        _write('/proc/self/uid_map', config.uid_map)
        _write('/proc/self/setgroups', b'deny')
        _write('/proc/self/gid_map', config.gid_map)
        os.write(w, pid.to_bytes(4, 'big'))
        os.close(w)
        report(pid)
        os._exit(0)
    os.close(w)
    _init(config, r, after_fork)


def _init(config, pid_r, after_fork):
    # The init forks the worker at once, which makes the session's mounts, ruleset and lack
    # of privileges itself: the pages that takes are the worker's own, not copies the init
    # would keep too (the init runs no user code, and nothing reaches it: no signal and no
    # ptrace across the worker's Landlock domain).
    try:
        worker = os.fork()
    except BaseException:
        os._exit(3)
    if worker == 0:
        try:
            # Once the launcher said the init's pid (as the JVM sees it; the init is 1 here),
            # the uid maps are written and the mounts can be made.
            said = os.read(pid_r, 4)
            os.close(pid_r)
            if len(said) < 4:
                os._exit(3)
            for source, target, fstype, flags, data in config.mounts:
                mount(source, target, fstype, flags, data)
            # The session's ruleset (its /tmp and /dev/shm are the ones just mounted), and no
            # way back to privileges, before anything else runs here.
            rules = ruleset(config)
            no_new_privs()
            drop_capabilities()
        except BaseException:
            os._exit(3)
        after_fork(int.from_bytes(said, 'big'), rules)
        os._exit(2)  # not reached
    # Init: reap everything; leave with the worker. It holds nothing of the fork server's,
    # not even its stdin, stdout and stderr: the JVM learns that the fork server died from
    # the end of its stdout, which a live init holding it would put off until the session ends.
    # C-level modules only: `signal` would build its enums here, ~300 pages of copies.
    os.closerange(0, 1 << 20)
    import _signal
    for sig in (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGIO):
        _signal.signal(sig, _signal.SIG_IGN)
    _signal.set_wakeup_fd(-1)
    _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue
        if pid == worker:
            code = os.waitstatus_to_exitcode(status)
            os._exit(128 - code if code < 0 else code)


# --- the worker ---------------------------------------------------------------------------

def _ruleset_attr(config):
    abi = config.landlock
    if not abi:
        return b''
    handled_net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 and not config.network else 0
    scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL if abi >= 6 else 0
    if abi >= 6:
        return struct.pack('QQQ', fs_rights(abi), handled_net, scoped)
    if abi >= 4:
        return struct.pack('QQ', fs_rights(abi), handled_net)
    return struct.pack('Q', fs_rights(abi))


_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | (1 << 14) | (1 << 15)


def _base_rules(config):
    # (path, rights) of every rule but the working directory's; the rights a file can have
    # are narrowed by _allow.
    if not config.landlock:
        return ()
    everything = fs_rights(config.landlock)
    rules = [(path, FS_READ) for path in config.read_only]
    # The session's own /tmp and /dev/shm; the devices everyone writes to.
    if config.tmp_size != '0':
        rules.append(('/tmp', everything))
    rules.append(('/dev/shm', everything))
    rules.append(('/proc', FS_READ | FS_WRITE_FILE))
    for dev in ('/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'):
        rules.append((dev, FS_READ_FILE | FS_WRITE_FILE))
    return tuple(rules)


def ruleset(config):
    """The session's Landlock ruleset without its working directory, or -1: built before the
    request so that the request pays for one rule and the restriction only."""
    if not config.landlock:
        return -1
    attr = config.ruleset_attr
    fd = _syscall(SYS_CREATE_RULESET, attr, len(attr), 0)
    if fd < 0:
        _fail('landlock_create_ruleset')
    for path, rights in config.rules:
        _allow(fd, path, rights)
    return fd


def _allow(ruleset_fd, path, rights, directory=False):
    try:
        pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        if directory:
            raise
        return  # not in this jail
    try:
        if not directory and not os.path.isdir(path):
            rights &= _FILE_RIGHTS
        if _syscall(SYS_ADD_RULE, ruleset_fd, RULE_PATH_BENEATH, struct.pack('=Qi', rights, pfd), 0) != 0:
            _fail('landlock_add_rule ' + path)
    finally:
        os.close(pfd)


def _restrict(ruleset_fd):
    if _syscall(SYS_RESTRICT_SELF, ruleset_fd, 0) != 0:
        _fail('landlock_restrict_self')


def no_new_privs():
    if _prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        _fail('no_new_privs')


_CAP_HEADER = struct.pack('Ii', 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
_CAP_NONE = bytes(24)                            # two empty __user_cap_data_struct
_caps_dropped = False                            # by this thread's process before it had threads


def drop_capabilities():
    # Root of its own user namespace has every capability there (mount, new namespaces):
    # none is needed to run code, so none is kept; exec cannot bring any back. Both the
    # bounding set and the capability sets belong to the calling thread (and the threads and
    # processes it makes later).
    global _caps_dropped
    cap = 0
    while _prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    if _capset(_CAP_HEADER, _CAP_NONE) != 0:
        _fail('capset')
    _caps_dropped = True


def warm(config, ruleset_fd):
    """In a spare, before the request: runs what confine runs, on a rule the ruleset has
    already (added again, it changes nothing), so that confine's first writes to pages
    shared with the fork server (copy-on-write faults, ~0.6 ms here) happen now, not while
    a client waits."""
    if ruleset_fd >= 0 and config.rules:
        path, rights = config.rules[0]
        _allow(ruleset_fd, path, rights)
        fs_rights(config.landlock)


def confine(config, ruleset_fd, directory):
    """Before any user code, in the main thread: the working directory read-write, then no
    way back."""
    if ruleset_fd >= 0:
        _allow(ruleset_fd, directory, fs_rights(config.landlock), directory=True)
        no_new_privs()
        _restrict(ruleset_fd)
        os.close(ruleset_fd)
    if config.sessions and not _caps_dropped:
        drop_capabilities()


def thread_confinement(config, ruleset_fd):
    """What a thread started now (before confine) must do first, as a function of no
    arguments: restrict itself to the ruleset as it is now (without the working directory),
    and drop the capabilities it would inherit. Decided in the starting thread."""
    drop = config.sessions and not _caps_dropped

    def confine_thread():
        no_new_privs()
        if ruleset_fd >= 0:
            _restrict(ruleset_fd)
        if drop:
            # This thread's sets only; the process's flag is the main thread's business.
            cap = 0
            while _prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
                cap += 1
            if _capset(_CAP_HEADER, _CAP_NONE) != 0:
                _fail('capset')
    return confine_thread


class Sandbox:
    """The confinement one fork server or cold worker applies, as worker.py calls it."""

    def __init__(self, config):
        self.config = config

    def subreaper(self):
        subreaper()

    def launch(self, after_fork, report):
        launch(self.config, after_fork, report)

    def ruleset(self):
        return ruleset(self.config)

    def warm(self, ruleset_fd):
        warm(self.config, ruleset_fd)

    def thread_confinement(self, ruleset_fd):
        return thread_confinement(self.config, ruleset_fd)

    def confine(self, ruleset_fd, directory):
        confine(self.config, ruleset_fd, directory)


def probe():
    """What works in this jail, one `key=value` per line."""
    print('landlock=%d' % landlock_abi())
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            launch(Config(''), lambda outside, rules: os._exit(0 if os.write(w, b'1') else 1), lambda p: None)
        except BaseException:
            os._exit(1)
    os.close(w)
    os.waitpid(pid, 0)
    ok = os.read(r, 1) == b'1'  # the worker of a session said so
    print('sessions=%d' % (1 if ok else 0), flush=True)


if __name__ == '__main__':
    probe()
