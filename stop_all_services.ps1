# Stop everything start_all_services started, as ./stop_all_services.sh does elsewhere (`mt5p stop`).
Set-Location -LiteralPath $PSScriptRoot
$python = Join-Path $PSScriptRoot ".venv\Scripts\python.exe"
if (-not (Test-Path -LiteralPath $python)) {
    Write-Output "Nothing to stop: the platform was never installed here (.venv is missing)."
    exit 0
}
& $python -m launcher stop
exit $LASTEXITCODE
