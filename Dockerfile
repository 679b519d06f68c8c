# zaspot in a container, installed as the README installs it, from this checkout.
#
#   docker build -t zaspot .
#   docker run -d --name zaspot -p 9000:9000 -p 9001:9001 -v zaspot-data:/var/lib/zaspot zaspot
#   docker exec zaspot zaspot doctor
#   docker exec zaspot zaspot backup /var/lib/zaspot/backup.db
#
# The config is /etc/zaspot/zaspot.yaml (deploy/zaspot.yaml; mount your own over /etc/zaspot,
# with its rules/ folder); the database and uploaded files are on the /var/lib/zaspot volume.
FROM python:3.11-slim

# A dedicated user that owns the state folder and nothing else.
RUN useradd --system --home-dir /var/lib/zaspot --shell /usr/sbin/nologin zaspot \
 && mkdir -p /var/lib/zaspot /etc/zaspot \
 && chown zaspot:zaspot /var/lib/zaspot

WORKDIR /opt/zaspot
COPY pyproject.toml README.md ./
COPY zaspot ./zaspot
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv .venv && . .venv/bin/activate && pip install .

COPY deploy/zaspot.yaml /etc/zaspot/zaspot.yaml
COPY rules /etc/zaspot/rules

ENV PATH=/opt/zaspot/.venv/bin:$PATH PYTHONUNBUFFERED=1
USER zaspot
WORKDIR /var/lib/zaspot
VOLUME /var/lib/zaspot
# Stations, operator API, /healthz and /metrics; the files endpoint (firmware, logs).
EXPOSE 9000 9001
HEALTHCHECK --interval=30s --timeout=5s \
  CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9000/healthz', timeout=4)"
# zaspot flushes its writes on SIGTERM (docker stop); give it the time to.
STOPSIGNAL SIGTERM
ENTRYPOINT ["zaspot"]
CMD ["run", "-c", "/etc/zaspot/zaspot.yaml"]
