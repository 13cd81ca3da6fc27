# testthat against the installed package, ending on a plain summary line.
results <- as.data.frame(testthat::test_dir("tests/testthat", package = "bngrad",
                                            load_package = "installed", reporter = "summary",
                                            stop_on_failure = FALSE))
failed <- sum(results$failed) + sum(results$error)
cat(sprintf("testthat: %d passed, %d failed, %d skipped\n",
            sum(results$nb) - sum(results$failed), failed, sum(results$skipped)))
if (failed > 0) quit(status = 1)
