# The images of dind's Kubernetes kit, one target each (.ci/kubernetes-kit builds them).
# Static programs run FROM scratch, as upstream's distroless images do: kubeadm's static pods
# call them by name, so they sit on PATH.
FROM scratch AS static
ENV PATH=/usr/local/bin:/usr/bin:/bin
COPY bin/ /usr/local/bin/

# kube-proxy runs /usr/local/bin/kube-proxy and programs the node's netfilter with Debian's
# iptables (nft backend, as the node's own) and conntrack.
FROM debian:bookworm-slim AS kube-proxy
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        iptables nftables conntrack ipset \
 && rm -rf /var/lib/apt/lists/*
COPY bin/kube-proxy /usr/local/bin/kube-proxy

# kubeadm's CoreDNS Deployment passes arguments only.
FROM scratch AS coredns
COPY bin/coredns /coredns
ENTRYPOINT ["/coredns"]

FROM scratch AS pause
COPY bin/pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]

# The provisioner and its helper pods (which make and remove volume directories with sh).
FROM debian:bookworm-slim AS local-path-provisioner
COPY bin/local-path-provisioner /usr/bin/local-path-provisioner
CMD ["local-path-provisioner"]
