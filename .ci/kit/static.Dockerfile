# An image of one static program, as upstream's distroless ones: kubeadm's static pods call
# the control plane and etcd by name, so they sit on PATH. (.ci/kubernetes-kit builds it.)
FROM scratch
ENV PATH=/usr/local/bin:/usr/bin:/bin
COPY bin/ /usr/local/bin/
