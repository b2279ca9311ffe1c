# The covgraph image: the CLI (`covgraph load`, `covgraph serve`) on Python 3.11.
# docker-compose.yml runs it against the official Neo4j image; no Java or Maven is needed here,
# because inside Docker the server is that container, not the local launcher.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/covgraph

# The build context is filtered by .dockerignore (no .venv, .git, tests, caches or corpus).
COPY . .
RUN pip install . \
    && useradd --system --create-home --home-dir /home/covgraph --uid 10001 covgraph

# `covgraph sync` looks for its pins beside the sources, which a non-editable install leaves here.
ENV COVGRAPH_SOURCES=/opt/covgraph/rules/sources.yaml

USER covgraph
WORKDIR /home/covgraph
# Made here, owned by covgraph, so that the corpus-cache volume mounted on it is writable.
RUN mkdir -p /home/covgraph/.cache/covgraph

EXPOSE 8000

CMD ["covgraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
