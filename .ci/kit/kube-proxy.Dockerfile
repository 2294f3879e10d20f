# kube-proxy: kubeadm's DaemonSet runs /usr/local/bin/kube-proxy, which programs the node's
# netfilter with iptables (the nft backend, as the node's own) and conntrack. Those two and
# what they load come from Debian, into an image of nothing else.
FROM debian:bookworm-slim AS tools
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables conntrack \
 && rm -rf /var/lib/apt/lists/*
RUN set -eu; mkdir /out; \
    multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu); \
    programs="/usr/sbin/xtables-nft-multi /usr/sbin/conntrack"; \
    for program in $programs; do \
        cp --parents "$program" /out; \
        ldd "$program" | awk '$3 ~ "^/" {print $3} $1 ~ "^/" {print $1}' | xargs -r -I{} cp --parents -L {} /out; \
    done; \
    cp -a --parents "/usr/lib/$multiarch/xtables" /out; \
    for lib in /usr/lib/$multiarch/xtables/*.so; do \
        ldd "$lib" | awk '$3 ~ "^/" {print $3}' | xargs -r -I{} cp --parents -L -n {} /out; \
    done; \
    for tool in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do \
        ln -s xtables-nft-multi "/out/usr/sbin/$tool"; \
    done; \
    mkdir -p /out/etc /out/run /out/tmp; cp /etc/protocols /etc/services /out/etc/
FROM scratch
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY --from=tools /out/ /
COPY bin/kube-proxy /usr/local/bin/kube-proxy
