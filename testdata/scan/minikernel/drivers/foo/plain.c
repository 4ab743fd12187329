/* Names no tracked function: the prefilter leaves it out. */
int foo_plain(int x)
{
	return x + 1;
}
