@echo off
rem Start the platform on Windows, as ./start_all_services.sh does elsewhere: find Python 3.11+, then
rem scripts\bootstrap.py creates .venv and installs on the first run and runs `mt5p start`.
setlocal
cd /d "%~dp0"
set "PY=python"
py -3.11 --version >nul 2>&1 && set "PY=py -3.11"
if "%PY%"=="python" py -3 --version >nul 2>&1 && set "PY=py -3"
%PY% scripts\bootstrap.py --run -m launcher start
exit /b %ERRORLEVEL%
