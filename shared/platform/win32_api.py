"""The Win32 calls of the Windows layer, through ctypes (kernel32). Imported only on Windows."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from ctypes import wintypes
from typing import Any

JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
PROCESS_TERMINATE = 0x0001
PROCESS_SET_QUOTA = 0x0100


class _BasicLimits(ctypes.Structure):
    _fields_ = [
        ("PerProcessUserTimeLimit", ctypes.c_int64),
        ("PerJobUserTimeLimit", ctypes.c_int64),
        ("LimitFlags", wintypes.DWORD),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", wintypes.DWORD),
        ("Affinity", ctypes.c_size_t),
        ("PriorityClass", wintypes.DWORD),
        ("SchedulingClass", wintypes.DWORD),
    ]


class _IoCounters(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_uint64)
        for name in (
            "ReadOperationCount",
            "WriteOperationCount",
            "OtherOperationCount",
            "ReadTransferCount",
            "WriteTransferCount",
            "OtherTransferCount",
        )
    ]


class _ExtendedLimits(ctypes.Structure):
    _fields_ = [
        ("BasicLimitInformation", _BasicLimits),
        ("IoInfo", _IoCounters),
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    ]


class Kernel32:
    """`Win32Api` on the real kernel32. The job handle is never closed: it must live as long as we do."""

    def __init__(self) -> None:
        loader = getattr(ctypes, "WinDLL", None)
        if loader is None:
            raise OSError("kernel32 exists only on Windows")
        self._k32: Any = loader("kernel32", use_last_error=True)
        self._k32.CreateJobObjectW.restype = wintypes.HANDLE
        self._k32.OpenProcess.restype = wintypes.HANDLE

    def _check(self, ok: object, call: str) -> None:
        if not ok:
            raise OSError(getattr(ctypes, "get_last_error", lambda: 0)(), f"{call} failed")

    def create_kill_on_close_job(self) -> int:
        job = self._k32.CreateJobObjectW(None, None)
        self._check(job, "CreateJobObjectW")
        info = _ExtendedLimits()
        info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        ok = self._k32.SetInformationJobObject(
            wintypes.HANDLE(job),
            JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
            ctypes.byref(info),
            ctypes.sizeof(info),
        )
        self._check(ok, "SetInformationJobObject")
        return int(job)

    def assign_to_job(self, job: int, pid: int) -> None:
        process = self._k32.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, False, pid)
        self._check(process, "OpenProcess")
        try:
            ok = self._k32.AssignProcessToJobObject(wintypes.HANDLE(job), wintypes.HANDLE(process))
            self._check(ok, "AssignProcessToJobObject")
        finally:
            self._k32.CloseHandle(wintypes.HANDLE(process))

    def send_ctrl_break(self, pid: int) -> None:
        if sys.platform == "win32":
            os.kill(pid, signal.CTRL_BREAK_EVENT)
