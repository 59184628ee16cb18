// Catch2's main(), compiled once for all the C++ binding tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
