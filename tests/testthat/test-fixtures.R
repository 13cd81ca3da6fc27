# The shared vectors (tests/fixtures, made by complex-step differentiation in
# make_fixtures.py): the same numbers pytest holds the core to.

test_that("there are fixtures for every kind of case, weighted ones included", {
  files <- fixture_files()
  expect_gte(length(files), 20)
  acts <- vapply(files, function(f) read_fixture(f)$activation, "")
  expect_setequal(unique(acts), activations)
  weighted <- vapply(files, function(f) !is.null(read_fixture(f)$weights), TRUE)
  expect_gte(sum(weighted), 4)
  expect_true(any(!weighted))
})

for (path in fixture_files()) {
  d <- read_fixture(path)
  test_that(paste("pure-R loops match fixture", d$name), {
    g <- bn_grad_loop(d$X, d$y, d$params, d$activation, d$eps, d$ddof, weights = d$weights)
    for (k in c("loss", "G1", "gamma", "beta", "G2", "b")) {
      expect_lt(rel_err(g[[k]], d$expected[[k]]), 1e-10, label = k)
    }
  })
  test_that(paste("core via reticulate matches fixture", d$name), {
    need_core()
    g <- bn_grad(d$X, d$y, d$params, d$activation, d$eps, d$ddof, weights = d$weights)
    for (k in c("loss", "G1", "gamma", "beta", "G2", "b")) {
      expect_lt(rel_err(g[[k]], d$expected[[k]]), 1e-10, label = k)
    }
  })
}

test_that("the seed example keeps the seed's shapes: G2 a vector, integer X", {
  d <- read_fixture(test_path("..", "fixtures", "seed_example.json"))
  expect_true(is.integer(d$X))
  g <- bn_grad_loop(d$X, d$y, d$params, "relu", eps = 0, ddof = 1)
  expect_null(dim(g$G2))
  expect_equal(dim(g$G1), c(7L, 4L))
})

test_that("bn_seed_example() draws the data the seed fixture holds", {
  d <- read_fixture(test_path("..", "fixtures", "seed_example.json"))
  s <- bn_seed_example()
  expect_equal(s$X, matrix(as.numeric(d$X), nrow(d$X)), tolerance = 0)
  expect_equal(s$y, d$y, tolerance = 0)
  expect_equal(s$params[c("G1", "gamma", "beta", "G2")], d$params[c("G1", "gamma", "beta", "G2")],
               tolerance = 0)
  expect_equal(c(s$eps, s$ddof), c(d$eps, d$ddof))
})
