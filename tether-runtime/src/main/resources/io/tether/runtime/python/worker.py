# Tether Python worker: one persistent interpreter driven over a Unix-domain socket, the
# control channel: one it connects to itself when started cold, or the connection the fork
# server accepted for it (see the end of this file).
#
# Started cold by io.tether.runtime.python.PythonProcess as
#   python3 -E -B worker.py --connect <socket path> <max_output_bytes> <rlimit_as> <rlimit_cpu> <rlimit_nproc> <rlimit_fsize> [sys.path entries...]
# (limits in bytes / seconds, 0 = leave unlimited).
#
# Protocol (both directions length-prefixed; lengths are 4-byte big-endian and count
# the bytes after themselves):
#   Java -> worker: op (1 byte) | id (8 bytes BE) | payload
#       b'x' exec       payload = cell number (8 bytes BE) + flags (1 byte: 1 = interactive,
#                       the JVM answers input requests) + stdin length (4 bytes BE) + UTF-8
#                       stdin text + UTF-8 source
#       b'n' input      payload = UTF-8 line answering the input request of exec id
#       b'i' interrupt  id = the exec id to interrupt (ignored unless that exec runs)
#       b'p' ping       answered with a pong carrying the same id
#       b'c' complete   payload = cursor (4 bytes BE, in code points) + UTF-8 code; only
#                       between executions; answered with an answer frame of the same id
#       b'd' inspect    the same payload and answer
#   worker -> Java: one JSON object (ASCII) per frame
#       {"t":"hello","pid":..,"version":".."} once, when ready
#       {"t":"fatal","message":".."} instead of hello when setup failed (then exit)
#       {"t":"out","id":..,"s":1|2,"d":".."} output of exec id on stdout (1) / stderr (2)
#       {"t":"display","id":..,"data":{..},"metadata":{..},"truncated":b}  a display_data
#           output of exec id (a MIME bundle; after all stdout/stderr written before it)
#       {"t":"done","id":..,"status":"ok|error|interrupted","result":{..},"error":{..},"truncated":b}
#           (and "result_metadata":{..} when the result's bundle has metadata)
#       {"t":"pong","id":..}
#       {"t":"input","id":..,"prompt":"..","password":b}  exec id waits for a line of input
#           (after all its stdout/stderr written before), answered by an b'n' frame
#       {"t":"answer","id":..,"matches":[..],"cursor_start":..,"cursor_end":..} to complete,
#       {"t":"answer","id":..,"found":b,"data":{..}} to inspect,
#       {"t":"answer","id":..,"error":".."} when either failed
#
# Start-up speed matters (a cold start is paid per session), so this file imports only
# C modules at start: `json`, `signal`, `ast`, `threading` and `traceback` pull in `re`
# and `enum` (about 18 ms together here); the JSON writer below uses `_json`, the
# compiler goes through `_ast`, and `traceback`/`linecache` are imported on the first
# error only.

import os
import sys
import _thread
import _signal
import _json
import _ast
import _warnings
import codecs
import fcntl
import io
import select
import builtins
import _frozen_importlib

# --- file descriptors --------------------------------------------------------------
# The control channel is a private, non-inheritable descriptor (the socket, both
# directions); fds 1 and 2 become pipes this process reads itself, so nothing user code
# writes at the OS level (os.write, os.system, child processes) can reach the control
# channel. The worker keeps a private write end of each pipe as well: a cell that closes
# or replaces fd 1 or 2 (os.close(1), os.dup2(f, 1)) changes where its own later writes
# go, but the pipes never reach end-of-file, so the pump and the end of an execution
# work as before.
CTL_IN = CTL_OUT = -1
_STD_FILES = ()
STREAMS = ()
_PIPE_WRITERS = ()  # the private write ends; held open, never written


def setup_fds(devnull=-1):
    # devnull: /dev/null opened for reading (the fork server opens it once), or -1.
    global _STD_FILES, STREAMS, _PIPE_WRITERS
    if devnull < 0:
        devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    _out_r, _out_w = os.pipe()
    _err_r, _err_w = os.pipe()
    os.dup2(_out_w, 1)
    os.dup2(_err_w, 2)
    _PIPE_WRITERS = (_out_w, _err_w)  # non-inheritable (os.pipe), unlike fds 1 and 2
    # Only the read ends: fds 1 and 2 stay blocking for user code. (A read end has no
    # other status flag to keep, so no F_GETFL first.)
    fcntl.fcntl(_out_r, fcntl.F_SETFL, os.O_NONBLOCK)
    fcntl.fcntl(_err_r, fcntl.F_SETFL, os.O_NONBLOCK)
    if not _STD_FILES:
        make_std_files()
    STREAMS = (Stream(_out_r, 1), Stream(_err_r, 2))


def make_std_files():
    # They name fds 0, 1 and 2, not what those are now, so the fork server makes them once
    # (about half a millisecond) and its children inherit them, unused and empty.
    global _STD_FILES
    sys.stdin = sys.__stdin__ = STDIN  # see 'input' below; fd 0 is /dev/null
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.open(1, 'wb', closefd=False), encoding='utf-8',
                                                   errors='backslashreplace', line_buffering=True)
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(io.open(2, 'wb', closefd=False), encoding='utf-8',
                                                   errors='backslashreplace', line_buffering=True)
    _STD_FILES = (sys.stdout, sys.stderr)


WORKER_FILE = __file__
MAX_OUTPUT = 0
MAX_JSON_DEPTH = 200
MAX_ERROR_NAME = 1000  # characters of an exception's class name (user code can make any)
MEMORY_HEADROOM = 32 << 20

_write_lock = _thread.allocate_lock()


def send(text):
    data = text.encode('ascii')
    data = len(data).to_bytes(4, 'big') + data
    with _write_lock:
        n = os.write(CTL_OUT, data)
        if n < len(data):  # rare: a frame larger than the socket or pipe buffer
            view = memoryview(data)[n:]
            while view:
                view = view[os.write(CTL_OUT, view):]


_str = _json.encode_basestring_ascii


def to_json(value, depth=0):
    """JSON text of value, or ValueError/TypeError when it is not plain JSON data."""
    if value is None:
        return 'null'
    if value is True:
        return 'true'
    if value is False:
        return 'false'
    if isinstance(value, str):
        return _str(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value or value in (float('inf'), float('-inf')):
            raise ValueError('not finite')
        return float.__repr__(value)
    if depth >= MAX_JSON_DEPTH:
        raise ValueError('too deep')
    if isinstance(value, (list, tuple)):
        return '[' + ','.join([to_json(v, depth + 1) for v in value]) + ']'
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError('key is not a string')
            parts.append(_str(k) + ':' + to_json(v, depth + 1))
        return '{' + ','.join(parts) + '}'
    raise TypeError('not JSON')


# --- state shared between the main thread, the SIGIO handler and the output pump -------
running = False      # user code (or its repr) is on the main thread's stack right now
running_id = 0       # the exec id whose user code runs / ran last
interrupt_id = 0     # the last exec id Java asked to interrupt
current_id = 0       # the exec id output is attributed to; 0 between executions


def ignore_sigint(signum, frame):
    # Interrupts come over the control channel; a stray SIGINT (a terminal, user code's
    # os.killpg) must not hit the worker or the cell that runs.
    pass


_signal.signal(_signal.SIGINT, ignore_sigint)


class Stream:
    def __init__(self, fd, number):
        self.fd = fd
        self.number = number
        self.lock = _thread.allocate_lock()
        self.decoder = codecs.getincrementaldecoder('utf-8')('replace')
        self.count = 0
        self.truncated = False

    def reset(self):
        self.decoder.reset()
        self.count = 0
        self.truncated = False

    def forward(self, data, final=False):
        # Caller holds self.lock.
        eid = current_id
        if eid == 0:
            return  # output between executions belongs to no one
        room = MAX_OUTPUT - self.count
        if len(data) > room:
            data = data[:max(room, 0)]
            self.truncated = True
        self.count += len(data)
        text = self.decoder.decode(data, final)
        if text:
            send('{"t":"out","id":%d,"s":%d,"d":%s}' % (eid, self.number, _str(text)))

    def drain(self, readable, final=True):
        # Caller holds self.lock; readable: whether poll saw anything left in the pipe;
        # final: the end of the execution (an incomplete character is flushed, replaced).
        while readable:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not data:
                break  # end of file: user code closed the worker's own write end as well
            self.forward(data)
        if final:
            self.forward(b'', True)


def pump(confine=None):
    # One thread streams both pipes while code runs. A pipe is read under its stream's
    # lock so that drain_streams can take everything still in it after an execution, in
    # order. confine: what it must do first in a sandbox (see prepare).
    global _pump_failure
    if confine is not None:
        try:
            confine()
        except BaseException as e:
            _pump_failure = e
            return
        finally:
            _pump_confined.release()
    poller = select.poll()
    streams = {}
    for stream in STREAMS:
        poller.register(stream.fd, select.POLLIN)
        streams[stream.fd] = stream
    while True:
        for fd, _ in poller.poll():
            stream = streams[fd]
            with stream.lock:
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not data:  # its write ends are all closed: it would poll as ready forever
                    poller.unregister(fd)
                    continue
                stream.forward(data)


_drain_poller = None


def ready_streams():
    # Caller holds both streams' locks: the fds of the pipes that hold something.
    global _drain_poller
    if _drain_poller is None:
        _drain_poller = select.poll()
        for stream in STREAMS:
            _drain_poller.register(stream.fd, select.POLLIN)
    return {fd for fd, _ in _drain_poller.poll(0)}


_ALL_SIGNALS = _signal.valid_signals()


def send_in_order(frame):
    # A frame that must come after everything the cell wrote before it (a display): flush
    # the Python-level buffers, forward what is in the pipes, then send it under both
    # streams' locks, so the pump cannot forward later output before it. Signals wait
    # meanwhile: an interrupt (SIGIO) raises in the code that runs, and this is the one
    # frame the main thread sends while code runs; raised inside send(), it would leave half
    # a frame on the channel (and a handler that displays would find the locks taken).
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except BaseException:
            pass
    out, err = STREAMS
    mask = _signal.pthread_sigmask(_signal.SIG_BLOCK, _ALL_SIGNALS)
    try:
        with out.lock, err.lock:
            ready = ready_streams()
            if ready:
                out.drain(out.fd in ready, False)
                err.drain(err.fd in ready, False)
            send(frame)
    finally:
        _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)


def drain_streams():
    # Everything user code wrote before the end is in the pipes now or already read by the
    # pump. Under both streams' locks (the pump reads and forwards a pipe under its lock),
    # one poll tells which pipe still holds something; only those are read: one system
    # call per execution instead of a failing read per pipe.
    out, err = STREAMS
    with out.lock, err.lock:
        ready = ready_streams()
        if ready:
            out.drain(out.fd in ready)
            err.drain(err.fd in ready)
        else:  # the common case; a stream that decoded nothing has nothing to flush
            if out.count:
                out.drain(False)
            if err.count:
                err.drain(False)



# --- control channel -------------------------------------------------------------------
# The main thread reads it: between executions it blocks on it, and runs an exec request
# itself, without a hand-off to another thread. While code runs, the kernel signals the
# main thread when a frame arrives (O_ASYNC, SIGIO sent to that thread alone), and the
# handler takes the frames that are there: a ping is answered, an interrupt for the code
# that runs raises KeyboardInterrupt in it, also in a blocking call such as time.sleep,
# which the signal ends. The end of the channel ends the worker, idle or not.
# Between executions SIGIO is ignored, so the kernel drops it at once: an exec frame that
# arrives before the main thread is back in its read would otherwise cost a signal
# delivery (~2 us; toggling O_ASYNC itself costs more). The worker owns SIGIO: a handler
# user code sets for it lasts until the end of its cell.
F_SETOWN_EX = 15    # fcntl.h; the fcntl module does not name it
F_OWNER_TID = 0

_inbuf = b''
_ctl_poller = None
_start_poller = None  # its own poll object: a SIGIO handler may poll _ctl_poller meanwhile
_taking = False     # take_frames runs; a SIGIO handled meanwhile only sets _more
_more = False


def read_exact(n):
    # Reads ahead (one read per frame instead of one for the header and one for the
    # payload); what follows the frame stays in _inbuf for the next call.
    global _inbuf
    buf = _inbuf
    while len(buf) < n:
        data = os.read(CTL_IN, max(65536, n - len(buf)))
        if not data:
            _inbuf = buf
            return None
        buf = buf + data if buf else data
    _inbuf = buf[n:]
    return buf[:n] if len(buf) > n else buf


def die():
    # The JVM closed the channel (it closed the worker or died): take the whole process
    # group with us so no child of user code outlives its session.
    try:
        os.killpg(0, _signal.SIGKILL)
    finally:
        os._exit(0)


def signal_control():
    # Before any code runs: SIGIO to the main thread whenever the channel turns readable.
    global _ctl_poller, _start_poller
    _ctl_poller = select.poll()
    _ctl_poller.register(CTL_IN, select.POLLIN)
    _start_poller = select.poll()
    _start_poller.register(CTL_IN, select.POLLIN)
    _signal.signal(_signal.SIGIO, _signal.SIG_IGN)  # on_control while code runs
    owner = F_OWNER_TID.to_bytes(4, sys.byteorder) + _thread.get_native_id().to_bytes(4, sys.byteorder)
    fcntl.fcntl(CTL_IN, F_SETOWN_EX, owner)
    fcntl.fcntl(CTL_IN, fcntl.F_SETFL, fcntl.fcntl(CTL_IN, fcntl.F_GETFL) | os.O_ASYNC)


def control_frame(op, fid, payload=b''):
    global interrupt_id, _input_reply
    if op == 0x69:  # i: interrupt
        interrupt_id = fid
    elif op == 0x70:  # p: ping
        send('{"t":"pong","id":%d}' % fid)
    elif op == 0x6e:  # n: input, for the exec waiting for it (else late: dropped)
        if fid == _input_waiting and fid:
            _input_reply = payload.decode('utf-8', 'replace')


def serve():
    # The main thread, between executions.
    while True:
        header = read_exact(13)
        if header is None:
            die()
        size = int.from_bytes(header[0:4], 'big') - 9
        op = header[4]
        fid = int.from_bytes(header[5:13], 'big')
        payload = read_exact(size) if size > 0 else b''
        if payload is None:
            die()
        if op == 0x78:  # x: exec
            stdin_end = 13 + int.from_bytes(payload[9:13], 'big')
            execute(fid, int.from_bytes(payload[:8], 'big'), payload[stdin_end:],
                    payload[13:stdin_end], payload[8] & 1)
        elif op == 0x63 or op == 0x64:  # c: complete, d: inspect (document)
            query(op, fid, payload)
        else:
            control_frame(op, fid, payload)


def on_control(signum, frame):
    # Just before and after code runs, the main thread reads the channel itself.
    if running:
        take_control()


def take_control():
    # While code runs (from the SIGIO handler, or when an execution starts): handles the
    # frames that arrived, then raises if one interrupts the code that runs. Handlers run
    # between any two bytecodes of the main thread and inside a system call that a signal
    # interrupts, also in here: a nested one only marks that more arrived (a poll object
    # refuses to be polled twice at once).
    global _taking, _more
    if _taking:
        _more = True
        return
    try:
        while True:
            _taking = True
            _more = False
            take_frames()
            _taking = False
            if not _more:
                break
    finally:
        _taking = False
    if running and interrupt_id == running_id:
        raise KeyboardInterrupt


def take_frames():
    global _inbuf
    try:
        while _ctl_poller.poll(0):
            data = os.read(CTL_IN, 65536)
            if not data:
                die()
            _inbuf += data
    except OSError:
        die()
    buf = _inbuf
    while len(buf) >= 13:
        end = 4 + int.from_bytes(buf[0:4], 'big')
        if len(buf) < end or buf[4] == 0x78:
            break  # the rest of a frame, or an exec (Java sends none while one runs)
        op = buf[4]
        fid = int.from_bytes(buf[5:13], 'big')
        payload = buf[13:end]
        buf = _inbuf = buf[end:]
        control_frame(op, fid, payload)


# --- executions -----------------------------------------------------------------------
namespace = {'__name__': '__main__', '__builtins__': __builtins__, '__doc__': None}
_cells = {}          # cell file name -> source, so tracebacks can show user lines
_linecache = None


def remember_cell(filename, source):
    lines = source.splitlines(True)
    if _linecache is not None:
        _linecache.cache[filename] = (len(source), None, lines, filename)
    else:
        _cells[filename] = lines


def describe(error):
    # The error as JSON, and whether it was cut: its value and its traceback are capped at
    # MAX_OUTPUT characters each, like a result, so a huge message (raise ValueError('e' *
    # 2**24)) neither travels nor is stored in full, nor makes a frame too large to read.
    global _linecache
    if _linecache is None:
        import linecache
        for filename, lines in _cells.items():
            linecache.cache[filename] = (0, None, lines, filename)
        _cells.clear()
        _linecache = linecache
    import traceback
    try:
        value = str(error)
    except BaseException:
        value = '<unprintable %s>' % type(error).__name__
    try:
        report = traceback.TracebackException(type(error), error, error.__traceback__)
        seen = set()
        todo = [report]
        while todo:  # hide this file's frames, also in chained exceptions
            te = todo.pop()
            if id(te) in seen:
                continue
            seen.add(id(te))
            te.stack = traceback.StackSummary.from_list(
                [f for f in te.stack if f.filename != WORKER_FILE])
            todo += [c for c in (te.__cause__, te.__context__) if c is not None]
        text = ''.join(report.format())
    except BaseException:
        text = '%s: %s' % (type(error).__name__, value)
    text = text.rstrip('\n')
    name = type(error).__name__
    truncated = len(value) > MAX_OUTPUT or len(text) > MAX_OUTPUT or len(name) > MAX_ERROR_NAME
    if truncated:
        value = value[:MAX_OUTPUT]
        text = text[:MAX_OUTPUT]
        name = name[:MAX_ERROR_NAME]
    return '{"name":%s,"value":%s,"traceback":%s}' % (_str(name), _str(value), to_json(text.split('\n'))), truncated


# --- rich outputs ------------------------------------------------------------------------
# Jupyter's display model: an object is shown as a MIME bundle, {mime type: value}, made
# from its _repr_*_ methods (as IPython's formatters do), text/plain always (its repr);
# binary types are base64 text. display(obj) sends a display_data output at once, in order
# with the cell's stdout and stderr; the trailing expression's bundle is the execute_result
# (in the done frame). Caps: a result's values at most MAX_OUTPUT characters; all display
# outputs of one execution share MAX_OUTPUT characters more. A value that does not fit is
# left out (text/plain is cut instead) and the output and the execution say "truncated".
# Plain values (int, str, list...) skip the _repr_*_ lookups: the common REPL result stays
# as cheap as it was.

_PLAIN = frozenset((int, float, bool, str, bytes, list, tuple, dict, set, frozenset, complex, type(None)))
_REPR_METHODS = (('text/html', '_repr_html_'), ('text/markdown', '_repr_markdown_'),
                 ('text/latex', '_repr_latex_'), ('image/svg+xml', '_repr_svg_'),
                 ('image/png', '_repr_png_'), ('image/jpeg', '_repr_jpeg_'),
                 ('application/json', '_repr_json_'))
_BINARY = frozenset(('image/png', 'image/jpeg', 'image/gif', 'application/pdf'))
_display_used = 0    # characters of display data sent by the running execution
_display_truncated = False
_shown_figures = set()  # ids of matplotlib figures already shown by the running execution
_b2a_base64 = None


def bundle(value):
    # The execute_result of a trailing expression: (data JSON, metadata JSON or None, truncated).
    if type(value) in _PLAIN:
        text = repr(value)
        truncated = len(text) > MAX_OUTPUT
        if truncated:
            text = text[:MAX_OUTPUT]
        parts = '"text/plain":' + _str(text)
        try:
            data = to_json(value)
            if len(data) <= MAX_OUTPUT:
                parts += ',"application/json":' + data
        except (TypeError, ValueError, RecursionError):
            pass
        return '{' + parts + '}', None, truncated
    data, metadata = mime_bundle(value)
    if 'application/json' not in data:
        try:
            to_json(value)
            data['application/json'] = value
        except (TypeError, ValueError, RecursionError):
            pass
    return encode_bundle(data, metadata, MAX_OUTPUT)


def mime_bundle(value):
    """The MIME bundle of value, unencoded: ({mime: value}, {mime: metadata})."""
    data = {}
    metadata = {}
    if isinstance(value, type) or repr_method(value, '_ipython_canary_method_should_not_exist_') is not None:
        # A class (its _repr_*_ are unbound), or an object that claims every attribute
        # (IPython's test for one): its repr only.
        return {'text/plain': repr(value)}, metadata
    figure = sys.modules.get('matplotlib.figure')
    if figure is not None and isinstance(value, figure.Figure):
        png = figure_png(value)
        if png is not None:
            data['image/png'] = png
    method = repr_method(value, '_repr_mimebundle_')
    if method is not None:
        got = call_repr(value, '_repr_mimebundle_', method, include=None, exclude=None)
        if isinstance(got, tuple) and len(got) == 2:
            got, md = got
            if isinstance(md, dict):
                metadata.update(md)
        if isinstance(got, dict):
            for mime, v in got.items():
                if isinstance(mime, str) and v is not None:
                    data.setdefault(mime, v)
    for mime, name in _REPR_METHODS:
        if mime in data:
            continue
        method = repr_method(value, name)
        if method is None:
            continue
        got = call_repr(value, name, method)
        if isinstance(got, tuple) and len(got) == 2:
            got, md = got
            if isinstance(md, dict):
                metadata[mime] = md
        if got is not None:
            data[mime] = got
    if not isinstance(data.get('text/plain'), str):
        try:
            data['text/plain'] = repr(value)
        except BaseException as e:
            data['text/plain'] = '<unrepresentable %s: %s>' % (type(value).__name__, type(e).__name__)
    return data, metadata


def repr_method(value, name):
    try:
        method = getattr(value, name, None)
    except BaseException:
        return None  # a __getattr__ that raises something odd: no such method
    return method if callable(method) else None


def call_repr(value, name, method, **kwargs):
    # A failing _repr_*_ leaves its type out, as IPython's formatters do, and says why on
    # the cell's stderr (not silently: its author wants to know).
    try:
        return method(**kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        try:
            sys.stderr.write('%s.%s failed: %s: %s\n' % (type(value).__name__, name, type(e).__name__, e))
        except BaseException:
            pass
        return None


def encode_bundle(data, metadata, room):
    # (data JSON, metadata JSON or None, truncated): at most room characters of values;
    # text/plain first and cut to fit, then the rest in order, each whole or left out.
    global _b2a_base64
    truncated = False
    text = data.get('text/plain', '')
    if len(text) > room:
        text = text[:max(room, 0)]
        truncated = True
    parts = ['"text/plain":' + _str(text)]
    room -= len(text)
    for mime, v in data.items():
        if mime == 'text/plain' or not isinstance(mime, str):
            continue
        if mime in _BINARY and isinstance(v, (bytes, bytearray, memoryview)):
            size = (len(v) + 2) // 3 * 4   # its base64 length, known before encoding it
            if size > room:
                truncated = True
                continue
            if _b2a_base64 is None:
                import binascii
                _b2a_base64 = binascii.b2a_base64
            encoded = _str(_b2a_base64(v, newline=False).decode('ascii'))
        elif mime == 'application/json' or mime.endswith('+json'):
            try:
                encoded = to_json(v)
            except (TypeError, ValueError, RecursionError):
                continue
        elif isinstance(v, str):
            if len(v) > room:
                truncated = True
                continue
            encoded = _str(v)
        else:
            continue
        item = _str(mime) + ':' + encoded
        if len(item) > room + len(mime) + 5:  # keys, quotes and escapes count too, a little slack
            truncated = True
            continue
        room -= len(item)
        parts.append(item)
    md = None
    if metadata:
        try:
            md = to_json(metadata)
        except (TypeError, ValueError, RecursionError):
            md = None
        if md is not None and len(md) > max(room, 0) + 4096:  # a little of its own: it is usually small
            md = None
            truncated = True
    return '{' + ','.join(parts) + '}', md, truncated


def display(*objs, raw=False, metadata=None):
    """Shows each object as a display_data output of the running cell, in order with its
    printed output: its richest representations (_repr_html_, _repr_png_... or a
    matplotlib figure as PNG) and its repr as text/plain. raw=True: each object is a MIME
    bundle already ({mime type: value}). metadata: {mime type: {...}} for every output."""
    global _display_used, _display_truncated
    eid = current_id
    if eid == 0:
        return  # no execution runs: output between executions belongs to no one
    for obj in objs:
        if raw:
            if not isinstance(obj, dict):
                raise TypeError('display(raw=True) takes MIME bundles (dicts), not %s' % type(obj).__name__)
            data, md = dict(obj), {}
        else:
            data, md = mime_bundle(obj)
        if metadata:
            md.update(metadata)
        data_json, md_json, truncated = encode_bundle(data, md, MAX_OUTPUT - _display_used)
        _display_used += len(data_json)
        if truncated:
            _display_truncated = True
        send_in_order('{"t":"display","id":%d,"data":%s,"metadata":%s,"truncated":%s}' % (
            eid, data_json, md_json or '{}', 'true' if truncated else 'false'))


# --- input ------------------------------------------------------------------------------
# input(), getpass.getpass() and sys.stdin read the execution's stdin text (sent with the
# exec frame) line by line; past its end, an interactive execution (the JVM answers) sends
# an input frame and waits for the answer, any other reads end-of-file: input() raises
# EOFError saying how to give input. While it waits, the main thread reads the control
# channel itself (SIGIO blocked, so no handler takes the answer between its check and its
# poll): an interrupt raises KeyboardInterrupt in the code that waits, as in time.sleep.
# fd 0 stays /dev/null: os.read(0) and child processes read nothing.
NO_INPUT = ('no input: pass "stdin" text with the execution, or stream the execution '
            '(Accept: text/event-stream) and answer its input_request events with '
            'POST /v1/sessions/{id}/input')
_stdin_text = ''      # what is left of the execution's stdin text
_interactive = 0      # the JVM answers input requests for the running execution
_input_waiting = 0    # the exec id waiting for an answer, 0 when none waits
_input_reply = None
_builtin_input = builtins.input


def stdin_line(prompt='', password=False, ask=True):
    # The next line with its line end, or '' at end-of-file.
    global _stdin_text
    if _stdin_text:
        if prompt:
            sys.stdout.write(prompt)  # as python3 does when its stdin is not a terminal
        i = _stdin_text.find('\n') + 1 or len(_stdin_text)
        line, _stdin_text = _stdin_text[:i], _stdin_text[i:]
        return line
    if not ask or not _interactive or current_id == 0:
        return ''
    return ask_input(prompt, password) + '\n'


def ask_input(prompt, password):
    global _input_waiting, _input_reply
    eid = current_id
    _input_reply = None
    _input_waiting = eid
    mask = _signal.pthread_sigmask(_signal.SIG_BLOCK, {_signal.SIGIO})
    try:
        send_in_order('{"t":"input","id":%d,"prompt":%s,"password":%s}' % (
            eid, _str(prompt), 'true' if password else 'false'))
        while True:
            take_control()  # raises KeyboardInterrupt when interrupted
            if _input_reply is not None:
                break
            _start_poller.poll()
    finally:
        _input_waiting = 0
        _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)
    reply, _input_reply = _input_reply, None
    return reply


def tether_input(prompt=''):
    """Reads a line: from the execution's stdin text, else from the client that streams
    the execution (an input_request event), else raises EOFError."""
    if sys.stdin is not STDIN:
        return _builtin_input(prompt)  # user code replaced sys.stdin
    prompt = str(prompt)
    line = stdin_line(prompt)
    if not line:
        raise EOFError(NO_INPUT)
    return line[:-1] if line.endswith('\n') else line


def tether_getpass(prompt='Password: ', stream=None):
    """getpass.getpass in a session: as input(), the answer flagged a password (not echoed)."""
    line = stdin_line(str(prompt), True)
    if not line:
        raise EOFError(NO_INPUT)
    return line[:-1] if line.endswith('\n') else line


class Stdin(io.TextIOBase):
    """sys.stdin of a session: the execution's stdin text, then (when streamed) input requests."""
    encoding = 'utf-8'
    errors = 'strict'
    newlines = None

    def readable(self):
        return True

    def readline(self, size=-1):
        line = stdin_line()
        if size is not None and 0 <= size < len(line):
            global _stdin_text
            line, _stdin_text = line[:size], line[size:] + _stdin_text
        return line

    def read(self, size=-1):
        global _stdin_text
        if size is None or size < 0:
            if _stdin_text:
                text, _stdin_text = _stdin_text, ''
                return text
            return stdin_line()
        if not _stdin_text:
            _stdin_text = stdin_line()
        text, _stdin_text = _stdin_text[:size], _stdin_text[size:]
        return text


STDIN = Stdin()


class _GetpassLoader:
    # Loads the real getpass module, then puts tether_getpass in it: the real one would
    # open /dev/tty (the server's terminal, when it has one) or read fd 0.
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        module.getpass = tether_getpass


# --- matplotlib ------------------------------------------------------------------------
# Works without configuration, without importing matplotlib at start: a finder first on
# sys.meta_path notices the first `import matplotlib` and sets MPLBACKEND (unless the
# environment sets one) to Tether's inline backend, the module tether_inline, which this
# finder also provides: Agg's canvas, and a show() that displays every open figure as
# image/png and closes it. At the end of each cell the figures still open are shown and
# closed the same way. MPLCONFIGDIR and XDG_CACHE_HOME go to a private temporary directory
# when the home directory cannot be written (in the sandbox, where /tmp is the session's
# own), so that matplotlib and fontconfig do not warn.
BACKEND_MODULE = 'tether_inline'
_BACKEND = 'module://' + BACKEND_MODULE
_BACKEND_SOURCE = (
    'from matplotlib.backend_bases import FigureManagerBase as FigureManager\n'
    'from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas\n'
    'backend_version = "tether"\n'
    'def show(*args, **kwargs):\n'
    '    _show_figures()\n')


class _Finder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == 'matplotlib':
            configure_matplotlib()
        elif name == 'getpass':
            for finder in sys.meta_path:
                spec = None if finder is _Finder else finder.find_spec(name, path, target)
                if spec is not None:
                    spec.loader = _GetpassLoader(spec.loader)
                    return spec
        elif name == BACKEND_MODULE:
            return _frozen_importlib.ModuleSpec(name, _Finder)
        return None

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        module._show_figures = show_figures
        exec(_BACKEND_SOURCE, module.__dict__)


_matplotlib_configured = False


def configure_matplotlib():
    global _matplotlib_configured
    if _matplotlib_configured:
        return
    _matplotlib_configured = True
    os.environ.setdefault('MPLBACKEND', _BACKEND)
    home = os.path.expanduser('~')
    if os.access(home, os.W_OK) or 'MPLCONFIGDIR' in os.environ:
        return
    # A home that cannot be written (the sandbox's): matplotlib's cache and fontconfig's
    # (fc-list, which matplotlib runs) go to a private directory, so neither complains.
    import tempfile
    cache = tempfile.mkdtemp(prefix='matplotlib-')
    os.environ['MPLCONFIGDIR'] = cache
    os.environ.setdefault('XDG_CACHE_HOME', cache)


def figure_png(figure):
    # The figure at its own size and dpi (640x480 for matplotlib's default), marked shown.
    _shown_figures.add(id(figure))
    try:
        buf = io.BytesIO()
        figure.savefig(buf, format='png')
        return buf.getvalue()
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        sys.stderr.write('the figure could not be drawn: %s: %s\n' % (type(e).__name__, e))
        return None


def show_figures():
    # plt.show(), and the end of every cell while the inline backend is in use: each open
    # figure not yet shown by this cell is displayed, then every one is closed.
    pyplot = sys.modules.get('matplotlib.pyplot')
    if pyplot is None or BACKEND_MODULE not in sys.modules:
        return
    try:
        if pyplot.get_backend() != _BACKEND:
            return
        managers = sys.modules['matplotlib._pylab_helpers'].Gcf.get_all_fig_managers()
    except BaseException:
        return
    for manager in managers:
        figure = manager.canvas.figure
        if id(figure) not in _shown_figures:
            display(figure)
    pyplot.close('all')


# --- compiling cells ------------------------------------------------------------------
# A cell runs like a REPL input: its statements, then its trailing expression (if any) is
# evaluated for the result. Finding that expression takes a parse to an AST and a compile
# of the tree, about twice a plain compile. A cell sent again with the same text (a
# notebook re-run, a polling loop) reuses the code objects of the first time, re-stamped
# with the new cell's file name (code.replace, nested code objects too), which is what
# compiling it again would give: compile is a function of the source, the file name, the
# mode and the flags, all the same here (cells inherit no __future__ flags from each
# other). The one thing compiling again could add is a warning (SyntaxWarning, an invalid
# escape...), so only sources that compile with no warning at all are kept: the first
# compile runs under an "error" filter for every warning, and a source that trips it is
# compiled again normally, showing its warnings, and never cached.
_CodeType = type(compile('', '', 'exec'))
_ERROR_FILTER = ('error', None, Warning, None, 0)
MAX_CACHED_CELLS = 256
MAX_CACHED_SOURCE = 8192   # characters; longer cells are compiled every time
_compiled = {}             # source -> (code, last_code), insertion-ordered, oldest first


def compile_cell(source, filename):
    cached = _compiled.get(source)
    if cached is not None:
        code, last_code = cached
        return refile(code, filename), (refile(last_code, filename) if last_code is not None else None)
    if len(source) > MAX_CACHED_SOURCE:
        return split_compile(source, filename)
    filters = warning_filters()
    filters.insert(0, _ERROR_FILTER)
    try:
        cached = split_compile(source, filename)
    except Exception:
        cached = None  # a warning, or an error the normal compile below reports
    finally:
        if filters and filters[0] is _ERROR_FILTER:
            del filters[0]
        else:
            filters.remove(_ERROR_FILTER)
    if cached is None:
        return split_compile(source, filename)
    if len(_compiled) >= MAX_CACHED_CELLS:
        del _compiled[next(iter(_compiled))]
    _compiled[source] = cached
    return cached


def split_compile(source, filename):
    tree = compile(source, filename, 'exec', _ast.PyCF_ONLY_AST)
    last = None
    if tree.body and isinstance(tree.body[-1], _ast.Expr):
        last = _ast.Expression(tree.body.pop().value)
    code = compile(tree, filename, 'exec')
    return code, (compile(last, filename, 'eval') if last is not None else None)


def warning_filters():
    # The list compile's warnings are matched against: what the C side reads too.
    warnings = sys.modules.get('warnings')
    return warnings.filters if warnings is not None else _warnings.filters


def refile(code, filename):
    consts = code.co_consts
    for c in consts:
        if type(c) is _CodeType:
            return code.replace(co_filename=filename, co_consts=tuple(
                refile(k, filename) if type(k) is _CodeType else k for k in consts))
    return code.replace(co_filename=filename)


def execute(eid, number, source_bytes, stdin_bytes=b'', interactive=0):
    global running, running_id, current_id, _display_used, _display_truncated, _stdin_text, _interactive
    _stdin_text = stdin_bytes.decode('utf-8', 'replace') if stdin_bytes else ''
    _interactive = interactive
    for stream in STREAMS:
        if stream.count or stream.truncated:
            stream.reset()
    if _display_used or _display_truncated or _shown_figures:
        _display_used = 0
        _display_truncated = False
        _shown_figures.clear()
    current_id = eid
    status = 'ok'
    result = error = result_metadata = None
    result_truncated = error_truncated = False
    try:
        try:
            source = source_bytes.decode('utf-8', 'replace')
            filename = '<cell-%d>' % number
            remember_cell(filename, source)
            code, last_code = compile_cell(source, filename)
            running_id = eid
            _signal.signal(_signal.SIGIO, on_control)
            running = True
            if _inbuf or _start_poller.poll(0):
                take_control()  # an interrupt or ping came since the exec frame was read
            exec(code, namespace)
            if last_code is not None:
                value = eval(last_code, namespace)
                if value is not None:
                    result, result_metadata, result_truncated = bundle(value)
        finally:
            running = False
            _signal.signal(_signal.SIGIO, _signal.SIG_IGN)
    except KeyboardInterrupt as e:
        status = 'interrupted'
        error, error_truncated = describe(e)
    except BaseException as e:
        status = 'error'
        error, error_truncated = describe(e)
    if BACKEND_MODULE in sys.modules:
        try:
            show_figures()  # what the cell drew and did not show, as Jupyter's inline backend
        except BaseException as e:
            sys.stderr.write('the figures could not be shown: %s: %s\n' % (type(e).__name__, e))
    files = (sys.stdout, sys.stderr)
    if files[0] is not _STD_FILES[0] or files[1] is not _STD_FILES[1]:
        # User code replaced them: flush theirs and ours, each once.
        files = {id(f): f for f in files + _STD_FILES}.values()
    for f in files:
        try:
            f.flush()
        except BaseException:
            pass
    drain_streams()
    current_id = 0
    _stdin_text = ''
    truncated = (result_truncated or error_truncated or _display_truncated or STREAMS[0].truncated
                 or STREAMS[1].truncated)
    if result is None and error is None and not truncated:
        send(_DONE_PLAIN % eid)
    else:
        extra = ''
        if result_metadata:
            extra = '"result_metadata":%s,' % result_metadata
        if result_truncated:
            extra += '"result_truncated":true,'
        send('{"t":"done","id":%d,"status":"%s","result":%s,%s"error":%s,"truncated":%s}' % (
            eid, status, result or 'null', extra, error or 'null', 'true' if truncated else 'false'))


_DONE_PLAIN = '{"t":"done","id":%d,"status":"ok","result":null,"error":null,"truncated":false}'


# --- completion and inspection (between executions only) -------------------------------
# Names come from the live namespace, as rlcompleter's do, but nothing is evaluated but
# names and attribute look-ups: `f().x` or `a[0].x` complete nothing rather than call
# user code. An attribute look-up may still run a property or __getattr__, so the query
# runs as an execution does, where an interrupt from Java (its timeout) reaches it.
MAX_MATCHES = 1000
MAX_DOC_CHARS = 20000
_IDENT_TAIL = None  # compiled on first use: `re` is not imported at start


def query(op, qid, payload):
    global running, running_id
    cursor = int.from_bytes(payload[:4], 'big')
    code = payload[4:].decode('utf-8', 'replace')
    try:
        try:
            running_id = qid
            _signal.signal(_signal.SIGIO, on_control)
            running = True
            if _inbuf or _start_poller.poll(0):
                take_control()
            answer = complete(code, cursor) if op == 0x63 else inspect_at(code, cursor)
        finally:
            running = False
            _signal.signal(_signal.SIGIO, _signal.SIG_IGN)
    except BaseException as e:
        answer = {'error': '%s: %s' % (type(e).__name__, e)}
    # What a property printed belongs to no execution (current_id is 0: it is dropped), not
    # to the next one: out of the buffers and the pipes now.
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except BaseException:
            pass
    drain_streams()
    answer['t'] = 'answer'
    answer['id'] = qid
    send(to_json(answer))


def dotted_before(code, cursor):
    # The dotted name that ends at the cursor ('os.pa'), or '' when there is none.
    global _IDENT_TAIL
    if _IDENT_TAIL is None:
        import re
        _IDENT_TAIL = re.compile(r'(?:[^\W\d]\w*\s*\.\s*)*[^\W\d]?\w*$')
    return _IDENT_TAIL.search(code[:cursor]).group()


def lookup(path, code=''):
    # The object a dotted name names in the session, without calling anything. A module
    # the code being typed imports ('import os; os.pa') is looked up where it is loaded
    # already; nothing is imported for it.
    names = path.split('.')
    first = names[0].strip()
    if first in namespace:
        obj = namespace[first]
    elif hasattr(builtins, first):
        obj = getattr(builtins, first)
    elif first in sys.modules and imports(code, first):
        obj = sys.modules[first]
    else:
        raise LookupError(first)
    for name in names[1:]:
        obj = getattr(obj, name.strip())
    return obj


def imports(code, module):
    import re
    return re.search(r'^\s*import\s+(?:[\w.]+\s*,\s*)*%s\s*(?:[,;#]|$)' % re.escape(module), code, re.M) is not None


def complete(code, cursor):
    line = code[:cursor].rsplit('\n', 1)[-1]
    words = line.split()
    if words and words[0] in ('import', 'from') and (len(words) == 1 and line.endswith(' ')
                                                     or len(words) == 2 and not line.endswith(' ')
                                                     or words[0] == 'import' and line.rstrip().endswith(',')):
        prefix = '' if line.endswith((' ', ',')) else words[-1].rsplit(',', 1)[-1]
        return ranged(cursor, prefix.rsplit('.', 1)[-1], module_names(prefix))
    if len(words) >= 3 and words[0] == 'from' and words[2] == 'import':
        prefix = '' if line.endswith((' ', ',')) else words[-1].rsplit(',', 1)[-1]
        module = sys.modules.get(words[1])
        names = dir(module) if module is not None else []
        return ranged(cursor, prefix, [n for n in names if n.startswith(prefix) and not n.startswith('__')])
    text = dotted_before(code, cursor)
    if '.' in text:
        base, prefix = text.rsplit('.', 1)
        prefix = prefix.strip()
        try:
            names = dir(lookup(base, code))
        except BaseException:
            names = []
        if not prefix.startswith('_'):
            names = [n for n in names if not n.startswith('_')]
        return ranged(cursor, prefix, [n for n in names if n.startswith(prefix)])
    if not text:
        return ranged(cursor, '', [])
    import keyword
    seen = set()
    names = []
    for n in list(keyword.kwlist) + list(keyword.softkwlist) + list(namespace) + dir(builtins):
        if n.startswith(text) and n not in seen and (text.startswith('_') or not n.startswith('_')):
            seen.add(n)
            names.append(n)
    return ranged(cursor, text, names)


def ranged(cursor, prefix, names):
    names = sorted(set(names))[:MAX_MATCHES]
    return {'matches': names, 'cursor_start': cursor - len(prefix), 'cursor_end': cursor}


def module_names(prefix):
    parent, _, start = prefix.rpartition('.')
    if parent:
        module = sys.modules.get(parent)
        path = getattr(module, '__path__', None)
        if path is None:
            return []
        import pkgutil
        names = [m.name for m in pkgutil.iter_modules(path)]
    else:
        import pkgutil
        names = [m.name for m in pkgutil.iter_modules()] + list(sys.builtin_module_names)
    return [n for n in names if n.startswith(start) and (start.startswith('_') or not n.startswith('_'))]


def name_at(code, cursor):
    # The dotted name under or just before the cursor; else the callable whose
    # parentheses the cursor is in ('len(x|' inspects len), as Jupyter's front ends do.
    end = cursor
    while end < len(code) and (code[end].isalnum() or code[end] == '_'):
        end += 1
    text = dotted_before(code, end).strip()
    if text and not text.endswith('.'):
        return text
    depth = 0
    for i in range(cursor - 1, -1, -1):
        c = code[i]
        if c in ')]}':
            depth += 1
        elif c in '([{':
            if depth == 0:
                return dotted_before(code, i).strip() if c == '(' else ''
            depth -= 1
    return ''


def inspect_at(code, cursor):
    name = name_at(code, cursor)
    if not name or name.endswith('.'):
        return {'found': False, 'data': {}}
    try:
        obj = lookup(name, code)
    except BaseException:
        import keyword
        if keyword.iskeyword(name):
            return {'found': True, 'data': {'text/plain': 'Keyword: %s' % name}}
        return {'found': False, 'data': {}}
    import inspect
    lines = []
    if callable(obj):
        try:
            lines.append('Signature: %s%s' % (name, inspect.signature(obj)))
        except (TypeError, ValueError):
            pass
    if not callable(obj) or isinstance(obj, type):
        try:
            text = repr(obj)
        except BaseException:
            text = '<unrepresentable>'
        if len(text) > 200:
            text = text[:200] + '...'
        lines.append('Value: %s' % text)
    lines.append('Type: %s' % type(obj).__name__)
    doc = inspect.getdoc(obj)
    if doc:
        if len(doc) > MAX_DOC_CHARS:
            doc = doc[:MAX_DOC_CHARS] + '\n[truncated]'
        lines.append('Docstring:\n' + doc)
    return {'found': True, 'data': {'text/plain': '\n'.join(lines)}}


def apply_limits(memory, cpu, nproc, fsize):
    if not (memory or cpu or nproc or fsize):
        return
    import resource
    if memory:
        # Below what is mapped already plus some room, even the worker's own threads fail
        # to allocate and it could neither answer nor notice the JVM going away: refuse.
        fd = os.open('/proc/self/statm', os.O_RDONLY)
        try:
            mapped = int(os.read(fd, 256).split()[0]) * os.sysconf('SC_PAGE_SIZE')
        finally:
            os.close(fd)
        needed = mapped + MEMORY_HEADROOM
        if memory < needed:
            raise ValueError('memory limit of %d bytes is below the %d the interpreter needs'
                             % (memory, needed))
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if cpu:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    if fsize:
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))


def prepare(devnull=-1, rules=-1):
    # What does not depend on the request (a spare does it before it is taken): its own
    # process group, so that killing the group kills every child of user code too; stdin;
    # the output pipes and their pump, with a small stack (it counts against RLIMIT_AS).
    # In a sandbox the pump confines itself first (Landlock and capabilities are per
    # thread): to the ruleset as it is now, without the working directory.
    global _pump_confined
    os.setpgid(0, 0)
    setup_fds(devnull)
    if SANDBOX:
        _pump_confined = _thread.allocate_lock()
        _pump_confined.acquire()
        args = (SANDBOX.thread_confinement(rules),)
    else:
        args = ()
    _thread.stack_size(256 * 1024)
    _thread.start_new_thread(pump, args)
    _thread.stack_size(0)


_pump_confined = None   # in a sandbox: released by the pump once it confined itself
_pump_failure = None


def await_pump_confined():
    # Before any user code runs: the pump thread runs its code too (user code can replace
    # what it calls), so it must be confined first.
    _pump_confined.acquire()
    if _pump_failure is not None:
        raise _pump_failure


def main(ctl, args, said_hello=None, controlled=False):
    # controlled: signal_control() ran already (a spare connected ahead does it early).
    global CTL_IN, CTL_OUT, MAX_OUTPUT
    CTL_IN = CTL_OUT = ctl
    try:
        MAX_OUTPUT = int(args[0])
        limits = [int(a) for a in args[1:5]]
        # Like the interactive interpreter: the working directory first (instead of this
        # script's temporary directory), then the configured extra paths.
        sys.path[0:1] = [''] + list(args[5:])
        sys.argv = ['']
        if not controlled:
            signal_control()
        apply_limits(*limits)
    except BaseException as e:
        fatal(e)
    send('{"t":"hello","pid":%d,"version":%s}' % (os.getpid(), _str(sys.version.split()[0])))
    if said_hello is not None:
        said_hello()
    try:
        serve()
    except BaseException:
        # The worker itself failed (e.g. MemoryError under a tiny RLIMIT_AS): an
        # interpreter that cannot answer must die, not linger; Java reports a crash.
        os._exit(70)


def fatal(error):
    send('{"t":"fatal","message":%s}' % _str('%s: %s' % (type(error).__name__, error)))
    os._exit(2)


# --- fork server ------------------------------------------------------------------------
# Started by io.tether.runtime.python.ForkServer as
#   python3 -E -B worker.py --fork-server <socket path>
# It loads everything a worker needs, freezes the heap out of the garbage collector's
# reach (gc.freeze(): a collection in a child would otherwise write to every object and
# un-share its page), says "ready <pid>" on stdout and keeps one spare child forked in
# advance: the spare has done all that does not depend on the request (process group,
# stdin, output pipes, pump thread) and waits on the socket. The connection it accepts is
# its control channel. The JVM connects ahead, before it needs a worker, and sends a
# request of length 0 (4 zero bytes): the spare then also arms its control signal (and, in
# a sandbox, waits for its pump thread's confinement) and waits for the request, so a start
# does not pay for the accept nor those. A request is a 4-byte big-endian length, then
# NUL-separated UTF-8: working directory, max output, the four limits, sys.path entries;
# at its length the spare writes its pid (4 bytes big-endian) and from then on is a worker
# exactly like a cold one. So a start costs the request's part of the set-up, not a fork.
#
# A spare that accepted a connection says so on a pipe ("R<pid>", reserved: no longer
# listening), then "T<pid>" when its request came (taken: a worker now) and "H<pid>" at its
# hello. The server forks the next spare 1 ms after the taken one said hello (or 4 ms after
# it was taken), not at once, where the fork (a copy of a bigger process since workers
# import site) competed for the CPU with the JVM finishing that start; and at once for a
# client that connects while no spare listens (the listener is in its poll only then), so
# a client that connects and says nothing holds up nobody.
#
# The server reaps its children and reports each exit of a worker on stdout as
# "exit <pid> <code>" (a negative code is the signal that killed it); a spare never taken
# is not reported, nobody knows its pid. SIGCHLD only wakes the server's loop (a wakeup
# fd), which reaps, so the loop alone changes its state. The server exits when its stdin
# ends (the JVM closed the runtime or died), killing a listening spare; its workers live
# on, each until its own connection ends. A spare not yet taken also exits when the server
# is gone (the read end of a pipe only the server writes to ends) or its connection ends,
# so even a killed server leaves none.

AHEAD = b'\0\0\0\0'          # a request of length 0: the client connected ahead, its request follows
SPARE_AFTER_TAKEN = 0.004   # seconds: the next spare at the latest this long after the last was taken
SPARE_AFTER_HELLO = 0.001   # seconds: the next spare this long after the last said hello
SPARE_AFTER_DEATH = 0.05    # seconds: the next spare after one died untaken (no hot loop if forking fails)


def spare_child(listener, devnull, alive_r, notes_w, server_fds, pid=0, rules=None):
    # pid: this worker's pid as the JVM sees it (in a sandbox, its session's init); rules:
    # the Landlock ruleset its session's init built, else None.
    _signal.set_wakeup_fd(-1)  # the server's; signals here are this worker's own
    _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
    for fd in server_fds:
        os.close(fd)
    if rules is None:
        rules = SANDBOX.ruleset() if SANDBOX else -1
    if PRELOADED:
        after_fork()
    prepare(devnull, rules)
    if SANDBOX:
        SANDBOX.warm(rules)
    rehearse()
    poller = select.poll()
    poller.register(listener.fileno(), select.POLLIN)
    poller.register(alive_r, select.POLLIN)
    while True:
        ready = [fd for fd, _ in poller.poll()]
        if alive_r in ready:
            os._exit(0)  # the server is gone: no one will ever connect
        try:
            conn, _ = listener._accept()
        except (BlockingIOError, InterruptedError):
            continue
        break
    pid = pid or os.getpid()
    note(notes_w, b'R%d\n' % pid)  # no longer listening: the server makes another spare when needed
    poller.unregister(listener.fileno())
    listener.close()
    global CTL_IN, CTL_OUT
    CTL_IN = CTL_OUT = conn
    controlled = False
    poller.register(conn, select.POLLIN)
    try:
        head = read_request_head(poller, alive_r)
        if head == AHEAD:
            # Connected ahead: the request comes later. What does not depend on it is done
            # now, off the start's critical path.
            signal_control()
            controlled = True
            if SANDBOX:
                await_pump_confined()
            head = read_request_head(poller, alive_r)
        if head is None:
            os._exit(0)  # closed unused (the JVM closed the fork server or died): no worker
        os.close(alive_r)
        note(notes_w, b'T%d\n' % pid)
        # Java learns the pid first, before anything can fail, so it can always kill and reap.
        os.write(conn, pid.to_bytes(4, 'big'))
        request = read_exact(int.from_bytes(head, 'big'))
        if request is None:
            os._exit(0)
        fields = request.decode('utf-8').split('\0')
        os.chdir(fields[0])
        if SANDBOX:
            if not controlled:
                await_pump_confined()
            SANDBOX.confine(rules, fields[0])
    except BaseException as e:
        fatal(e)

    def said_hello():
        note(notes_w, b'H%d\n' % pid)
        os.close(notes_w)

    main(conn, fields[1:], said_hello, controlled)


def read_request_head(poller, alive_r):
    # A spare with a connection but no request yet is no worker: it still goes with the
    # server (alive_r ends), and with the connection.
    if not _inbuf:
        while True:
            ready = [fd for fd, _ in poller.poll()]
            if CTL_IN in ready:
                break
            if alive_r in ready:
                os._exit(0)
    return read_exact(4)


def rehearse():
    # In a spare, before the request: what the request and a first execution run, on
    # nothing, so that their first writes to pages shared with the fork server (reference
    # counts of the objects they touch: copy-on-write faults, 11-16 us each on a small VM)
    # happen now, not while a client waits. Changes no state a worker keeps.
    fields = '.\x001\x000\x000\x000\x000'.encode('utf-8').decode('utf-8').split('\0')
    [int(a) for a in fields[1:5]]
    hello = '{"t":"hello","pid":%d,"version":%s}' % (os.getpid(), _str(sys.version.split()[0]))
    len(hello.encode('ascii')).to_bytes(4, 'big')
    with _write_lock:
        pass
    poller = select.poll()
    poller.register(0, select.POLLIN)
    poller.poll(0)
    code, last = split_compile('x = 0\nx + 1', '<rehearsal>')
    scratch = {'__builtins__': __builtins__}
    exec(code, scratch)
    bundle(eval(last, scratch))
    (_DONE_PLAIN % 0).encode('ascii')
    int.from_bytes(b'\0' * 8, 'big')


def note(notes_w, text):
    # The server may have exited meanwhile (its workers live on): then nobody reads.
    try:
        os.write(notes_w, text)
    except OSError:
        pass


def launch_spare(listener, devnull, alive_r, notes_w, server_fds):
    # A spare in a sandbox: its launcher makes the session's namespaces and init (see
    # sandbox.py) and tells the init's pid, which is the worker's pid for the JVM, then exits.
    r, w = os.pipe()
    launcher = os.fork()
    if launcher == 0:
        os.close(r)
        try:
            _signal.set_wakeup_fd(-1)
            _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
            SANDBOX.launch(lambda pid, rules: spare_child(listener, devnull, alive_r, notes_w, server_fds + (w,),
                                                          pid, rules),
                           lambda pid: os.write(w, pid.to_bytes(4, 'big')))
        finally:
            os._exit(2)
    os.close(w)
    try:
        said = os.read(r, 4)
    finally:
        os.close(r)
    while True:
        try:
            _, status = os.waitpid(launcher, 0)
            break
        except InterruptedError:
            continue
    if len(said) < 4:
        os.write(1, b'sandbox: a session could not be made (status %d)\n' % os.waitstatus_to_exitcode(status))
        return -1
    return int.from_bytes(said, 'big')


def fork_server(path, preload=(), extra_path=()):
    import gc
    import time
    import _socket
    # What a worker imports at its first error or limit, loaded once here and shared.
    import resource, linecache, traceback  # noqa: F401
    make_std_files()
    preload_modules(preload, extra_path)
    codecs.getincrementaldecoder('utf-8')  # the codec lookup, cached for every child
    if os.getpgrp() != os.getpid():  # in a jail it leads its own session already
        os.setpgid(0, 0)
    if SANDBOX:
        SANDBOX.subreaper()  # a session's init is a grandchild: its exit is ours to reap and report
    listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    devnull = os.open(os.devnull, os.O_RDONLY)  # every child's stdin; one open fewer each
    alive_r, alive_w = os.pipe()
    notes_r, notes_w = os.pipe()
    os.set_blocking(notes_r, False)
    spare = 0           # the listening spare's pid; 0 while there is none
    reserved = set()    # spares that accepted a connection and wait for its request: no workers yet
    last_taken = 0      # the spare that became a worker last
    next_spare = 0.0    # time.monotonic() at which to fork a spare when there is none (inf: when a client waits)
    not_before = 0.0    # no fork before this (after a spare died untaken: no hot loop if forking fails)
    waiting = False     # a client waits on the listener and no spare listens
    inf = float('inf')

    def read_notes():
        nonlocal spare, last_taken, next_spare
        try:
            data = os.read(notes_r, 65536)
        except BlockingIOError:
            return
        now = time.monotonic()
        for note in data.split(b'\n'):
            kind, pid = note[:1], int(note[1:] or 0)
            if kind == b'R' and pid == spare:
                spare = 0
                reserved.add(pid)
                next_spare = inf  # for the next client that connects, or after this one is taken
            elif kind == b'T' and pid in reserved:
                reserved.discard(pid)
                last_taken = pid
                if not reserved:  # else the next start takes a reserved one, and its client connects again after
                    next_spare = min(next_spare, now + SPARE_AFTER_TAKEN)
            elif kind == b'H' and pid == last_taken and not reserved:
                next_spare = min(next_spare, now + SPARE_AFTER_HELLO)

    def reap():
        nonlocal spare, not_before
        read_notes()  # a child that died after it was taken wrote its note before
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == spare:  # killed or failed before anyone knew it: no report
                spare = 0
                not_before = time.monotonic() + SPARE_AFTER_DEATH
                continue
            if pid in reserved:  # its connection closed unused: no report either
                reserved.discard(pid)
                continue
            os.write(1, b'exit %d %d\n' % (pid, os.waitstatus_to_exitcode(status)))

    # SIGCHLD only wakes the loop, through the wakeup fd, which also catches a signal that
    # comes just before poll() (a handler that reaped would then run only after poll
    # returned: a report late by as long as nothing else happens).
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    _signal.set_wakeup_fd(wake_w)
    _signal.signal(_signal.SIGCHLD, lambda signum, frame: None)
    poller = select.poll()
    poller.register(0, select.POLLIN)
    poller.register(notes_r, select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    watching = False  # whether the listener is in the poller (only while no spare listens)
    gc.collect()
    gc.freeze()
    os.write(1, b'ready %d\n' % os.getpid())
    while True:
        wait = None
        if spare == 0:
            now = time.monotonic()
            # A waiting client gets a spare at once, unless one is due anyway within a few ms
            # (it connected ahead just as a start finished: not to compete with that start).
            due = max(not_before, next_spare if next_spare < inf else now if waiting else inf)
            if due <= now:
                server_fds = (alive_w, notes_r, wake_r, wake_w)
                pid = launch_spare(listener, devnull, alive_r, notes_w, server_fds) if SANDBOX else os.fork()
                if pid == 0:
                    try:
                        spare_child(listener, devnull, alive_r, notes_w, server_fds)
                    finally:
                        os._exit(2)  # not reached unless its set-up failed: a worker never returns
                if pid < 0:  # the session's namespaces could not be made: try again later
                    not_before = time.monotonic() + SPARE_AFTER_DEATH
                    continue
                spare, next_spare, waiting = pid, inf, False
            elif due < inf:
                wait = due - now
        # A client that connects while no spare listens gets one made for it at once.
        watch = spare == 0 and not waiting
        if watch != watching:
            if watch:
                poller.register(listener.fileno(), select.POLLIN)
            else:
                poller.unregister(listener.fileno())
            watching = watch
        for fd, _ in poller.poll(None if wait is None else max(1, int(wait * 1000 + 0.999))):
            if fd == notes_r:
                read_notes()
            elif fd == wake_r:
                while True:
                    try:
                        if not os.read(wake_r, 4096):
                            break
                    except BlockingIOError:
                        break
                reap()
            elif fd == listener.fileno():
                waiting = True
            elif not os.read(0, 4096):
                read_notes()
                if spare:
                    os.kill(spare, _signal.SIGKILL)
                os._exit(0)


PRELOADED = False  # whether the fork server imported any configured module


def preload_modules(modules, extra_path):
    # The configured modules (python_preload), imported once here so that every forked
    # worker has them; on the path a worker will have (its extra entries), restored after.
    # One that fails is reported and skipped: a session that imports it sees the error.
    global PRELOADED
    PRELOADED = bool(modules)
    saved = sys.path[:]
    sys.path[1:1] = extra_path
    try:
        for name in modules:
            try:
                __import__(name)
            except BaseException as e:
                os.write(1, ('preload: cannot import %s: %s: %s\n' % (name, type(e).__name__, e))
                         .encode('utf-8', 'replace'))
    finally:
        sys.path[:] = saved


def after_fork():
    # In a new spare, when the fork server preloaded modules: what must not be shared
    # between sessions. Python's random reseeds itself at fork; numpy's global generator
    # does not, so every session would draw the same numbers. matplotlib's cache directory
    # (made in the server's /tmp when the home cannot be written) may not exist in this
    # session's own /tmp.
    nprandom = sys.modules.get('numpy.random')
    if nprandom is not None:
        nprandom.seed()
    for var in ('MPLCONFIGDIR', 'XDG_CACHE_HOME'):
        d = os.environ.get(var) if _matplotlib_configured else None
        if d:
            try:
                os.makedirs(d, exist_ok=True)
            except OSError:
                pass


def cold(path, args):
    import _socket
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    conn.connect(path)
    fd = conn.detach()
    global CTL_IN, CTL_OUT
    CTL_IN = CTL_OUT = fd
    try:
        rules = SANDBOX.ruleset() if SANDBOX else -1
        prepare(rules=rules)
        if SANDBOX:
            await_pump_confined()
            SANDBOX.confine(rules, os.getcwd())
    except BaseException as e:
        fatal(e)
    main(fd, args)


# What sessions see of Tether: display() as a builtin and in the module `tether`
# (`from tether import display`), input() reading the execution's input (see 'input'), and
# the finder of the matplotlib backend and of getpass.
builtins.display = display
builtins.input = tether_input
_tether_module = type(sys)('tether')
_tether_module.__doc__ = 'Tether session helpers: display(*objs, raw=False, metadata=None).'
_tether_module.display = display
sys.modules['tether'] = _tether_module
sys.meta_path.insert(0, _Finder)

# The JVM passes the environment workers get; bubblewrap adds PWD (the jail's start
# directory, not a worker's), which is nobody's to see.
os.environ.pop('PWD', None)

SANDBOX = None
if len(sys.argv) > 2 and sys.argv[1] == '--sandbox':
    import sandbox as _sandbox
    SANDBOX = _sandbox.Sandbox(_sandbox.Config(sys.argv[2]))
    del sys.argv[1:3]
if len(sys.argv) == 3 and sys.argv[1] == '--fork-server':
    fork_server(sys.argv[2])
elif len(sys.argv) == 6 and sys.argv[1] == '--fork-server' and sys.argv[3] == '--preload':
    fork_server(sys.argv[2], sys.argv[4].split(','), [p for p in sys.argv[5].split(os.pathsep) if p])
elif len(sys.argv) > 2 and sys.argv[1] == '--connect':
    cold(sys.argv[2], sys.argv[3:])
else:
    sys.exit('usage: worker.py --connect <socket> <arguments>'
             ' | --fork-server <socket> [--preload <module,...> <extra sys.path, os.pathsep-separated>]')
