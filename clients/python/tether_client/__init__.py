"""A Python client for Tether's HTTP API v1 (standard library only).

    from tether_client import Tether

    with Tether("http://127.0.0.1:8080", token) as tether, tether.auto_session("python") as py:
        py.execute("x = 41")
        print(py.execute("x + 1").value)   # 42
"""

from ._client import (UNSET, VERSION, AutoSession, Display, End, Error, Event, Execution, ExecutionPage,
                      ExecutionStream, InputRequest, Result, RetryPolicy, SessionPage, Start, Stderr, Stdout, Tether,
                      TetherError, output_bytes)

__version__ = VERSION
__all__ = ["Tether", "AutoSession", "TetherError", "RetryPolicy", "Execution", "ExecutionStream", "ExecutionPage", "SessionPage",
           "Event", "Start", "Stdout", "Stderr", "Display", "Result", "Error", "End", "InputRequest", "UNSET",
           "output_bytes"]
