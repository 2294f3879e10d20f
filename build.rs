// The images/ tree is embedded with include_dir!, which cannot tell cargo on stable Rust
// which files it read: without this, adding or editing a file there left the binary stale.
fn main() {
    println!("cargo:rerun-if-changed=images");
    println!("cargo:rerun-if-changed=build.rs");
}
