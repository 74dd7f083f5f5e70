# Tether's per-session confinement, applied inside the runtime's jail (a bubblewrap mount
# namespace without the data directory; see io.tether.runtime.sandbox.Sandbox). Standard
# library only: system calls through ctypes, loaded once by the fork server and shared
# with its children copy-on-write.
#
# A session is three processes deep, all forked before anyone asks for it:
#   launcher  a child of the fork server: unshares a user, PID, mount, IPC (and, without
#             network, network) namespace, maps its one uid, forks the init, tells the
#             fork server the init's pid and exits;
#   init      PID 1 of the session's PID namespace: mounts the session's own /proc, a
#             private /tmp and /dev/shm, hides the fork server's socket, forks the worker,
#             reaps every orphan of the session and exits with the worker's status. When it
#             exits, for whatever reason (the worker ended, the JVM killed it), the kernel
#             kills every process left in the namespace: daemons that called setsid,
#             grandchildren, stopped processes.
#   worker    the interpreter; builds its Landlock ruleset in advance, and when a request
#             names its working directory, adds it read-write, restricts itself (files,
#             TCP, signals and abstract sockets out of its domain) and drops every
#             capability, before any user code runs.
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
    if _libc.unshare(flags) != 0:
        _fail('unshare')


def _write(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text)
    finally:
        os.close(fd)


def mount(source, target, fstype, flags, data=None):
    if _libc.mount(source, target, fstype, ctypes.c_ulong(flags), data) != 0:
        _fail('mount ' + target.decode())


def subreaper():
    """Orphans of this process's descendants become its children (the fork server's)."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


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


# --- launcher and init (before any request) ----------------------------------------------

def launch(config, after_fork, report):
    """Called in a child of the fork server: makes the session's namespaces and its init,
    calls report(init's pid) and exits. The init calls after_fork(pid) in the worker it forks
    (pid: the init's pid as the JVM sees it); after_fork never returns."""
    flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC
    if not config.network:
        flags |= CLONE_NEWNET
    uid, gid = os.getuid(), os.getgid()
    unshare(flags)
    _write('/proc/self/uid_map', b'0 %d 1' % uid)
    _write('/proc/self/setgroups', b'deny')
    _write('/proc/self/gid_map', b'0 %d 1' % gid)
    r, w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(r)
        os.close(w)
        report(pid)
        os._exit(0)
    os.close(w)
    os.close(r)
    _init(config, pid_outside(), after_fork)


def pid_outside():
    # Our pid as the fork server's namespace sees it: /proc of the parent namespace is still
    # mounted until _init mounts the session's own (NSpid lists it outermost first).
    with open('/proc/self/status', 'rb') as f:
        for line in f:
            if line.startswith(b'NSpid:'):
                return int(line.split()[1])
    raise OSError('no NSpid in /proc/self/status')


def _init(config, outside, after_fork):
    try:
        mount(b'proc', b'/proc', b'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC)
        if config.tmp_size != '0':
            mount(b'tmpfs', b'/tmp', b'tmpfs', MS_NOSUID | MS_NODEV,
                  b'mode=1777,size=' + config.tmp_size.encode())
        if os.path.isdir('/dev/shm'):
            mount(b'tmpfs', b'/dev/shm', b'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  b'mode=1777,size=' + config.shm_size.encode())
        for path in config.hide:
            mount(b'tmpfs', path.encode(), b'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, b'size=4k,mode=0')
        worker = os.fork()
    except BaseException:
        os._exit(3)
    if worker == 0:
        after_fork(outside)
        os._exit(2)  # not reached
    # Init: reap everything; leave with the worker. It holds nothing of the fork server's.
    os.closerange(3, 1 << 20)
    import signal
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGIO):
        signal.signal(sig, signal.SIG_IGN)
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
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

def ruleset(config):
    """The session's Landlock ruleset without its working directory, or -1: built before the
    request so that the request pays for one rule and the restriction only."""
    if not config.landlock:
        return -1
    abi = config.landlock
    handled_net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 and not config.network else 0
    scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL if abi >= 6 else 0
    if abi >= 6:
        attr = struct.pack('QQQ', fs_rights(abi), handled_net, scoped)
    elif abi >= 4:
        attr = struct.pack('QQ', fs_rights(abi), handled_net)
    else:
        attr = struct.pack('Q', fs_rights(abi))
    fd = _syscall(SYS_CREATE_RULESET, attr, len(attr), 0)
    if fd < 0:
        _fail('landlock_create_ruleset')
    everything = fs_rights(abi)
    for path in config.read_only:
        _allow(fd, path, FS_READ)
    # The session's own /tmp and /dev/shm; the devices everyone writes to.
    if config.tmp_size != '0':
        _allow(fd, '/tmp', everything)
    _allow(fd, '/dev/shm', everything)
    _allow(fd, '/proc', FS_READ | FS_WRITE_FILE)
    for dev in ('/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'):
        _allow(fd, dev, FS_READ_FILE | FS_WRITE_FILE)
    return fd


def _allow(ruleset_fd, path, rights):
    try:
        pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # not in this jail
    try:
        if not os.path.isdir(path):
            rights &= FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | (1 << 14) | (1 << 15)
        if _syscall(SYS_ADD_RULE, ruleset_fd, RULE_PATH_BENEATH, struct.pack('=Qi', rights, pfd), 0) != 0:
            _fail('landlock_add_rule ' + path)
    finally:
        os.close(pfd)


def confine(config, ruleset_fd, directory):
    """Before any user code: the working directory read-write, then no way back."""
    if ruleset_fd >= 0:
        _allow(ruleset_fd, directory, fs_rights(config.landlock))
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            _fail('no_new_privs')
        if _syscall(SYS_RESTRICT_SELF, ruleset_fd, 0) != 0:
            _fail('landlock_restrict_self')
        os.close(ruleset_fd)
    if config.sessions:
        drop_capabilities()


def drop_capabilities():
    # Root of its own user namespace has every capability there (mount, new namespaces):
    # none is needed to run code, so none is kept; exec cannot bring any back.
    cap = 0
    while _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    header = struct.pack('Ii', 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = ctypes.create_string_buffer(24)      # two empty __user_cap_data_struct
    if _libc.capset(header, data) != 0:
        _fail('capset')


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
            launch(Config(''), lambda outside: os._exit(0 if os.write(w, b'1') else 1), lambda p: None)
        except BaseException:
            os._exit(1)
    os.close(w)
    os.waitpid(pid, 0)
    ok = os.read(r, 1) == b'1'  # the worker of a session said so
    print('sessions=%d' % (1 if ok else 0), flush=True)


if __name__ == '__main__':
    probe()
