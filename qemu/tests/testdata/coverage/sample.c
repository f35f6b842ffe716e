#include <stdio.h>
#include <stdlib.h>

static int counter;

static int classify(int x)
{
	if (x < 0)
		return -1;
	if (x == 0) {
		counter++;
		return 0;
	}
	return 1;
}

int never_called(int y)
{
	if (y > 3)
		counter += y;
	return counter;
}

int main(int argc, char **argv)
{
	int i, sum = 0;

	for (i = 0; i < argc; i++)
		sum += classify(i);
	if (sum > 100)
		abort();
	printf("%d %d\n", sum, counter);
	return 0;
}
