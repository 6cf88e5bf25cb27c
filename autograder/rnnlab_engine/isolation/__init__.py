"""What keeps a kernel in its place, one layer a module, each with a fallback that needs less
privilege than the one before: ``namespaces`` (a root of its own), ``landlock`` (a file
allow-list without namespaces), ``seccomp`` (a syscall filter: no network, no new namespaces,
no tracing), ``cgroups`` (every process counted from birth), ``users`` (a user of its own,
``RLIMIT_NPROC``, nothing of it left after); ``probe`` finds what this machine allows, and
``jail`` (a script) starts the kernel in it.  Nothing is imported here: the jail runs before
the kernel, and imports only what it needs.
"""
