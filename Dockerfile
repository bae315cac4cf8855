# ccx: one image for every ccx process of the production layout (docker-compose.yml):
# `ccx run acd|cdr|stats|sink`, `ccx api`, `ccx topics apply`, configured by CCX_* variables.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src

# The dependencies first, from pyproject.toml: a layer that survives changes to the code.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && pip install -r requirements.txt

# Then ccx itself (the packages of [tool.setuptools.packages.find]), installed, not edited in place.
COPY schemas/ schemas/
COPY streams/ streams/
COPY processors/ processors/
COPY telephony/ telephony/
COPY analytics/ analytics/
COPY api/ api/
COPY ccx/ ccx/
COPY infra/ infra/
RUN pip install --no-deps . \
    && cd / && rm -rf /src

# An unprivileged user; /data is CCX_DATA_DIR (heartbeats, and the embedded log/warehouse if used).
RUN useradd --system --uid 10001 --home-dir /data --create-home ccx
USER ccx
WORKDIR /data
ENV CCX_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080

ENTRYPOINT ["ccx"]
CMD ["--help"]
