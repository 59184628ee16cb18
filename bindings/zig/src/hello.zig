//! The smallest isola program in Zig: define a function, call it, print
//! the JSON result. `zig build run`.
const std = @import("std");
const isola = @import("isola");

const Printer = struct {
    pub fn onResult(_: *Printer, value: []const u8) void {
        std.debug.print("isola {s}: add(1, 2) = {s}\n", .{ isola.version(), value });
    }
};

pub fn main() !void {
    var diag: isola.Diagnostics = .{};
    defer diag.deinit();
    var tpl = isola.Template.init(.{ .diagnostics = &diag }) catch |err| {
        std.debug.print("template: {t}: {s}\n", .{ err, diag.message() });
        return err;
    };
    defer tpl.deinit();
    var sb = try isola.Sandbox.init(&tpl, .{});
    defer sb.deinit();

    var printer: Printer = .{};
    const sink = isola.Sink.of(Printer, &printer, .json);
    sb.eval("def add(a, b):\n    return a + b\n", null) catch |err| {
        std.debug.print("eval: {t}: {s}\n", .{ err, sb.last_error.message() });
        return err;
    };
    try sb.callJson("add", "[1, 2]", null, &sink);
}
