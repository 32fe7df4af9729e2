# One image for every service; the command picks which one runs:
#   docker run IMAGE                                  -> backend-api, which spawns the six others (one container)
#   docker run IMAGE python -m services.data          -> the data service alone (docker-compose.yml does this)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a code change does not reinstall TensorFlow.
# Every dependency ships a manylinux wheel (TA-Lib bundles its C library), so no compiler is needed.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['postgres']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

COPY shared ./shared
COPY services ./services
COPY deploy/config.container.json ./deploy/config.container.json
# The dashboard's chart library, from the npm registry as locked, its sha512 checked.
COPY scripts/fetch_dashboard_assets.py ./scripts/
RUN python scripts/fetch_dashboard_assets.py \
    && pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /var/lib/mt5p --create-home mt5p \
    && mkdir -p /var/lib/mt5p/database /var/lib/mt5p/logs \
    && chown -R mt5p:mt5p /var/lib/mt5p

# Containers bind 0.0.0.0 (the config allows it); only the gateway should be published to the host.
# The port comes from the config (or MT5P_PORT, which compose sets so the health check below finds it).
ENV MT5P_CONFIG=/app/deploy/config.container.json \
    MT5P_HOST=0.0.0.0

USER mt5p
VOLUME ["/var/lib/mt5p"]
EXPOSE 5000 5001 5002 5003 5004 5005 5006

# /health is the one endpoint open without a token; slim has no curl, so Python asks it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('MT5P_PORT', '5000'), timeout=4)"]

STOPSIGNAL SIGTERM
CMD ["python", "-m", "services.backend_api"]
