# Unblend in a container: slim, non-root, data on the /data volume, health on :8080.
#   docker compose up -d          (see compose.yaml and docs/deploy.md)
# The base image is pinned to a Python release and Debian version; bump both on purpose.

FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
# Only what the package needs, so an edit to docs or tests does not rebuild this layer.
COPY pyproject.toml README.md LICENSE ./
COPY core ./core
COPY bots ./bots
COPY content ./content
# With the PostgreSQL driver ([storage] url = "postgresql://..."): one small wheel.
RUN pip install --no-cache-dir --no-compile --prefix=/install "./[postgres]"

FROM python:3.11.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib
RUN groupadd --system --gid 10001 unblend \
    && useradd --system --uid 10001 --gid unblend --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin unblend \
    && mkdir -p /data \
    && chown unblend:unblend /data \
    && chmod 700 /data
COPY --from=build /install /usr/local
COPY deploy/config.docker.toml /etc/unblend/config.toml
# Numeric, so the host (and Kubernetes runAsNonRoot) can tell it is not root.
USER 10001:10001
WORKDIR /data
# The database and its key file (unblend.sqlite, unblend.key) and backups live here.
VOLUME ["/data"]
# /healthz for uptime monitors ([health] listen in deploy/config.docker.toml).
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
# SIGTERM lets messages in flight finish, then closes the database (docker stop waits 10 s;
# compose.yaml gives it 30 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["unblend"]
CMD ["run", "--config", "/etc/unblend/config.toml"]
