# fieldops: one image for every process (serve, migrate, ingest, worker, iot acl …); see docker-compose.yml.
#   docker build -t fieldops .

# ---- build: a virtual environment with fieldops and its runtime dependencies, pinned by requirements.lock
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first, in their own layer: rebuilt only when pyproject.toml or requirements.lock change.
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/runtime-deps.txt \
    && pip install -c requirements.lock -r /tmp/runtime-deps.txt

# Then the project itself (what .dockerignore lets through: the packages, README.md, pyproject.toml).
COPY . .
RUN pip install --no-deps -c requirements.lock . \
    && pip check

# ---- runtime: the virtual environment only, run by an unprivileged user
FROM python:3.11-slim
RUN groupadd --system --gid 10001 fieldops \
    && useradd --system --uid 10001 --gid fieldops --home-dir /home/fieldops --create-home fieldops \
    && mkdir -p /data \
    && chown fieldops:fieldops /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FIELDOPS_DATA_DIR=/data
WORKDIR /home/fieldops
USER fieldops
# /data holds blobs (photos, signatures); mount a volume there (docker-compose.yml does).
EXPOSE 8000
ENTRYPOINT ["fieldops"]
CMD ["serve", "--host", "0.0.0.0"]
