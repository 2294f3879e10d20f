# The pod sandbox: dind's own pause program (pause.c), as an unprivileged user.
FROM scratch
COPY bin/pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
