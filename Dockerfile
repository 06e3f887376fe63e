# chatops in a container: small (python:3.11-slim, a wheel with no build tools in the final
# image), non-root, configured from the environment, with a health check on /healthz.
#
#   docker build -t chatops .
#   docker run --rm -p 8080:8080 -v chatops-data:/data \
#     -e CHATOPS_SLACK__BOT_TOKEN -e CHATOPS_SLACK__APP_TOKEN -e CHATOPS_SLACK__INBOX_CHANNEL \
#     -e CHATOPS_PLUGINS__WEBHOOK__SECRET chatops
#
# compose.yaml runs it with PostgreSQL.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY chatops ./chatops
COPY plugins ./plugins
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# No .pyc files written at run time, logs unbuffered, pip quiet about being root at build time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin chatops \
    && mkdir /data && chown chatops:chatops /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER chatops
WORKDIR /data
# Listen on every interface inside the container; SQLite in the /data volume unless
# CHATOPS_DATABASE__URL names PostgreSQL. Any other key: CHATOPS_<SECTION>__<KEY>.
ENV CHATOPS_HTTP__HOST=0.0.0.0 \
    CHATOPS_HTTP__PORT=8080 \
    CHATOPS_DATABASE__URL=sqlite:////data/chatops.db
VOLUME ["/data"]
EXPOSE 8080
# Liveness only: /healthz answers while the event loop does (/readyz is for load balancers),
# on the port the bot listens on (CHATOPS_HTTP__PORT may change it).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('CHATOPS_HTTP__PORT', '8080'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status != 200)"]
CMD ["chatops", "run"]
