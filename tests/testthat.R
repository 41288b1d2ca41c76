library(testthat)
library(cfpoison)

test_check("cfpoison")
