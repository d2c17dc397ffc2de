# securekv: a small image. Build: docker build -t securekv .
#   docker run -p 6379:6379 -v securekv-data:/data securekv --requirepass 'a long secret'
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /opt/securekv
COPY pyproject.toml README.md ./
COPY securekv ./securekv
COPY acl ./acl
COPY tls ./tls
COPY conf ./conf
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin securekv \
    && mkdir -p /data && chown securekv:securekv /data

USER securekv
VOLUME ["/data"]
EXPOSE 6379

# Liveness: a PING over loopback (protected mode allows loopback without a password;
# with requirepass set the server still answers -NOAUTH, which proves it is up).
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import socket,sys; s=socket.create_connection(('127.0.0.1',6379),2); s.sendall(b'PING\r\n'); r=s.recv(64); sys.exit(0 if r[:1] in (b'+',b'-') else 1)"

ENTRYPOINT ["securekv-server", "/opt/securekv/conf/securekv.conf", "--bind", "0.0.0.0", "--dir", "/data"]
