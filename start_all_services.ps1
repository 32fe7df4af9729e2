# Start the platform on Windows, as ./start_all_services.sh does elsewhere: find Python 3.11+, then
# scripts\bootstrap.py creates .venv and installs on the first run and runs `mt5p start`.
Set-Location -LiteralPath $PSScriptRoot
$exe = "python"
$pyArgs = @()
if (Get-Command py -ErrorAction SilentlyContinue) {
    $exe = "py"
    & py -3.11 --version *> $null
    $pyArgs = if ($LASTEXITCODE -eq 0) { @("-3.11") } else { @("-3") }
}
& $exe @pyArgs scripts\bootstrap.py --run -m launcher start
exit $LASTEXITCODE
