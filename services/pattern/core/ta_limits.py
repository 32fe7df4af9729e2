"""Parameter limits read from the TA-Lib C library's own abstract interface.

The Python wrapper (`talib.abstract`) exposes each optional input's name, type and default, but drops its
`dataSet` (ta_abstract.h: `TA_OptInputParameterInfo.dataSet` points at a `TA_IntegerRange`, `TA_RealRange`
or `TA_IntegerList`). Those are the limits TA-Lib itself enforces with TA_BAD_PARAM, so we read them with
ctypes from the very shared library the wrapper is linked to. Where that library cannot be located (a
statically linked build), `read_limits` returns None and callers validate types only, leaving ranges to
TA-Lib's own TA_BAD_PARAM at compute time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from collections.abc import Mapping
from dataclasses import dataclass

import talib

# ta_defs.h: TA_REAL_MIN/TA_REAL_MAX (-3e37/3e37) mean "no limit"; TA_INTEGER_MAX is INT_MAX.
_REAL_UNBOUNDED = 3e37

# ta_abstract.h TA_OptInputParameterType
_REAL_RANGE, _REAL_LIST, _INTEGER_RANGE, _INTEGER_LIST = 0, 1, 2, 3


class _OptInputInfo(ctypes.Structure):
    _fields_ = (
        ("type", ctypes.c_int),
        ("paramName", ctypes.c_char_p),
        ("flags", ctypes.c_int),
        ("displayName", ctypes.c_char_p),
        ("dataSet", ctypes.c_void_p),
        ("defaultValue", ctypes.c_double),
        ("hint", ctypes.c_char_p),
        ("helpFile", ctypes.c_char_p),
    )


class _IntegerRange(ctypes.Structure):
    _fields_ = (
        ("min", ctypes.c_int),
        ("max", ctypes.c_int),
        ("suggested_start", ctypes.c_int),
        ("suggested_end", ctypes.c_int),
        ("suggested_increment", ctypes.c_int),
    )


class _RealRange(ctypes.Structure):
    _fields_ = (
        ("min", ctypes.c_double),
        ("max", ctypes.c_double),
        ("precision", ctypes.c_int),
        ("suggested_start", ctypes.c_double),
        ("suggested_end", ctypes.c_double),
        ("suggested_increment", ctypes.c_double),
    )


class _IntegerDataPair(ctypes.Structure):
    _fields_ = (("value", ctypes.c_int), ("string", ctypes.c_char_p))


class _IntegerList(ctypes.Structure):
    _fields_ = (("data", ctypes.POINTER(_IntegerDataPair)), ("nbElement", ctypes.c_uint))


@dataclass(frozen=True, slots=True)
class ParameterLimits:
    """What TA-Lib accepts for one optional input: a numeric range (None = unbounded) or a list of choices."""

    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[tuple[int, str], ...] | None = None


def find_library() -> str | None:
    """Path of the TA-Lib C library the `talib` wrapper uses, or None when it is not a separate file."""
    # Wheels vendor it next to the package (auditwheel: ta_lib.libs/); source builds link the system one.
    site = os.path.dirname(os.path.dirname(os.path.abspath(talib.__file__)))
    vendored = sorted(glob.glob(os.path.join(site, "ta_lib.libs", "libta*lib*")))
    if vendored:
        return vendored[0]
    return ctypes.util.find_library("ta-lib") or ctypes.util.find_library("ta_lib")


def read_limits(
    parameter_counts: Mapping[str, int], library_path: str | None = None
) -> dict[tuple[str, int], ParameterLimits] | None:
    """Limits keyed by (function name, optional-input index), or None when the C library is unavailable."""
    path = library_path if library_path is not None else find_library()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    lib.TA_GetFuncHandle.argtypes = (ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p))
    lib.TA_GetOptInputParameterInfo.argtypes = (
        ctypes.c_void_p,
        ctypes.c_uint,
        ctypes.POINTER(ctypes.POINTER(_OptInputInfo)),
    )
    limits: dict[tuple[str, int], ParameterLimits] = {}
    for name, count in parameter_counts.items():
        handle = ctypes.c_void_p()
        if lib.TA_GetFuncHandle(name.encode(), ctypes.byref(handle)) != 0:
            return None  # a different TA-Lib build than the wrapper's: trust none of it
        for index in range(count):
            info = ctypes.POINTER(_OptInputInfo)()
            if lib.TA_GetOptInputParameterInfo(handle, index, ctypes.byref(info)) != 0:
                return None
            limits[(name, index)] = _limits_of(info.contents)
    return limits


def _limits_of(info: _OptInputInfo) -> ParameterLimits:
    if info.type == _INTEGER_RANGE:
        irange = _IntegerRange.from_address(info.dataSet)
        return ParameterLimits(minimum=irange.min, maximum=irange.max)
    if info.type == _REAL_RANGE:
        rrange = _RealRange.from_address(info.dataSet)
        return ParameterLimits(
            minimum=None if rrange.min <= -_REAL_UNBOUNDED else rrange.min,
            maximum=None if rrange.max >= _REAL_UNBOUNDED else rrange.max,
        )
    if info.type == _INTEGER_LIST:
        ilist = _IntegerList.from_address(info.dataSet)
        pairs = ilist.data
        return ParameterLimits(
            choices=tuple((pairs[i].value, pairs[i].string.decode()) for i in range(ilist.nbElement))
        )
    return ParameterLimits()  # TA_OptInput_RealList: no function of this TA-Lib uses it
