# The authbff image: the static binary, the CA bundle, a non-root user and a
# writable data folder on an empty base. `make image` builds the binary
# outside (CGO_ENABLED=0) and stages it with the CA bundle and the passwd/
# group files in bin/image, the build context:
#
#   make image                       # -> localhost/authbff:latest
#   podman run --rm -p 4000:4000 -e DATABASE_URL=postgres://… authbff
#
# Nothing is pulled from a registry, so it builds offline.
FROM scratch

COPY passwd group /etc/
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --chown=65532:65532 data /data
COPY authbff /usr/local/bin/authbff

# /data holds the SQLite file and the development secret when no
# DATABASE_URL / AUTH_SECRET is given; in a container authbff listens on
# every interface (LISTEN_ADDR overrides).
ENV AUTH_DATA_DIR=/data \
    PORT=4000 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
WORKDIR /data
USER 65532:65532
EXPOSE 4000

ENTRYPOINT ["/usr/local/bin/authbff"]
CMD ["serve"]
