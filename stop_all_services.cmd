@echo off
rem Stop everything start_all_services started, as ./stop_all_services.sh does elsewhere (`mt5p stop`).
setlocal
cd /d "%~dp0"
if not exist ".venv\Scripts\python.exe" (
  echo Nothing to stop: the platform was never installed here ^(.venv is missing^).
  exit /b 0
)
".venv\Scripts\python.exe" -m launcher stop
exit /b %ERRORLEVEL%
