# The default StorageClass's provisioner. Its helper pods run this image too and make and
# remove volume directories with sh, mkdir and rm: Debian's static busybox gives them.
FROM debian:bookworm-slim AS tools
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends busybox-static \
 && rm -rf /var/lib/apt/lists/*
FROM scratch
ENV PATH=/usr/bin:/bin
COPY --from=tools /bin/busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY bin/local-path-provisioner /usr/bin/local-path-provisioner
CMD ["local-path-provisioner"]
