// Unit tests of the pure layers (config, plan, render); owned by the test helper.
