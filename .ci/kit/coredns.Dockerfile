# CoreDNS: kubeadm's Deployment passes arguments only.
FROM scratch
COPY bin/coredns /coredns
ENTRYPOINT ["/coredns"]
