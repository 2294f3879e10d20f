/*
 * dind's pod sandbox process (the image kubeadm calls "pause"): it holds a pod's
 * namespaces open and does nothing else. As PID 1 of the pod it reaps every child that is
 * handed to it, and it ends, with status 0, on SIGINT or SIGTERM.
 *
 * All three signals stay blocked and are taken with sigwait(): PID 1 of a PID namespace
 * never receives a signal whose action is the default, but a blocked one is queued for it.
 */
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	sigset_t wanted;
	int sig;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		static const char version[] = "dind-pause " DIND_PAUSE_VERSION "\n";
		return write(STDOUT_FILENO, version, sizeof version - 1) < 0;
	}
	sigemptyset(&wanted);
	sigaddset(&wanted, SIGCHLD);
	sigaddset(&wanted, SIGINT);
	sigaddset(&wanted, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &wanted, NULL) != 0)
		return 1;
	for (;;) {
		if (sigwait(&wanted, &sig) != 0)
			continue;
		if (sig != SIGCHLD)
			return 0;
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
}
