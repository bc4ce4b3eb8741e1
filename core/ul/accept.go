package ul

import "syscall"

// errTooManyFiles is the accept error after which the server backs off.
var errTooManyFiles error = syscall.EMFILE
