// The PKCS#11 (Cryptoki) C API as p11-kit ships it (Debian's libp11-kit-dev), and dlopen to load a
// vendor's module by path. Nothing is linked: PKCS#11 has a module loaded at run time and asked for its
// function list (C_GetFunctionList).
#include <dlfcn.h>
#include <p11-kit-1/p11-kit/pkcs11.h>
