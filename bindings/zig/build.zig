//! Zig binding of isola. `zig build test` translates include/isola.h,
//! builds the `isola` module on top of it and runs its tests against the
//! cargo-built libisola.so.
//!
//! Options:
//!   -Disola-lib-dir=DIR      directory holding libisola.so (default ../../target/debug)
//!   -Disola-include-dir=DIR  directory holding isola.h     (default ../../include)
//!   -Disola-cache-dir=DIR    ISOLA_CACHE_DIR for the tests (default: the library's default cache)
const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});

    const lib_dir = dirOption(b, "isola-lib-dir", "Directory holding libisola.so", "../../target/debug");
    const include_dir = dirOption(b, "isola-include-dir", "Directory holding isola.h", "../../include");
    const cache_dir = b.option([]const u8, "isola-cache-dir", "ISOLA_CACHE_DIR for the tests");

    // include/isola.h as a Zig module.
    const translate = b.addTranslateC(.{
        .root_source_file = include_dir.path(b, "isola.h"),
        .target = target,
        .optimize = optimize,
    });
    translate.addIncludePath(include_dir);
    const c_mod = translate.createModule();

    // The library has a SONAME (libisola.so.0.MINOR) but cargo writes only
    // libisola.so: link programs against it and give them a directory
    // holding a symlink of that name on their RUNPATH.
    const soname_link = b.addSystemCommand(&.{ "sh", "-c", "mkdir -p \"$2\" && ln -sfn \"$(readlink -f \"$1\")\" \"$2/$(objdump -p \"$1\" | awk '/SONAME/ {print $2}')\"", "sh" });
    soname_link.addFileArg(lib_dir.path(b, "libisola.so"));
    const runtime_dir = soname_link.addOutputDirectoryArg("isola-runtime");

    const mod = b.addModule("isola", .{
        .root_source_file = b.path("src/isola.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .imports = &.{.{ .name = "isola_c", .module = c_mod }},
    });
    mod.addLibraryPath(lib_dir);
    mod.linkSystemLibrary("isola", .{});
    mod.addRPath(runtime_dir);

    const tests = b.addTest(.{
        .name = "isola-zig-tests",
        .root_module = b.createModule(.{
            .root_source_file = b.path("src/tests.zig"),
            .target = target,
            .optimize = optimize,
            .link_libc = true,
            .imports = &.{.{ .name = "isola", .module = mod }},
        }),
    });
    const run_tests = b.addRunArtifact(tests);
    run_tests.step.dependOn(&soname_link.step);
    if (cache_dir) |dir| run_tests.setEnvironmentVariable("ISOLA_CACHE_DIR", dir);

    const test_step = b.step("test", "Run the isola Zig binding tests");
    test_step.dependOn(&run_tests.step);

    const example = b.addExecutable(.{
        .name = "isola-zig-hello",
        .root_module = b.createModule(.{
            .root_source_file = b.path("src/hello.zig"),
            .target = target,
            .optimize = optimize,
            .link_libc = true,
            .imports = &.{.{ .name = "isola", .module = mod }},
        }),
    });
    b.installArtifact(example);
    const run_example = b.addRunArtifact(example);
    run_example.step.dependOn(&soname_link.step);
    b.step("run", "Run the hello example").dependOn(&run_example.step);
}

/// A directory from `-Dname=DIR` (absolute or relative to the current
/// directory), else `default` relative to this build.zig.
fn dirOption(b: *std.Build, name: []const u8, description: []const u8, default: []const u8) std.Build.LazyPath {
    if (b.option([]const u8, name, description)) |dir| {
        return b.graph.cwdRelativePath(dir);
    }
    return b.path(default);
}
