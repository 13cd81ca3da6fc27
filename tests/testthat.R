library(testthat)
library(bngrad)

test_check("bngrad")
