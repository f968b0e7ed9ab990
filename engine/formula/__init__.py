"""The formula compiler: untrusted text -> parse tree -> SymPy -> exact value, gradient and Hessian programs."""
