/* sleeper.c: the scale bench's idle tasks: `sleeper N` becomes N processes (itself and N-1
 * forked children) that do nothing but sleep until killed. Static, tiny, and each child
 * touches a page or two of stack, so 10,000 of them cost little more than their kernel
 * structures. Started inside a cgroup, all N stay in it. */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1;

	for (long i = 1; i < n; i++)
		if (fork() == 0)
			break;
	for (;;)
		pause();
}
