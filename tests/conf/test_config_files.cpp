#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "crashkit/conf/config_parser.hpp"

using namespace crashkit::conf;
namespace cap = crashkit::capture;
using V = std::vector<std::string>;
namespace fs = std::filesystem;

namespace {

std::string sample(const std::string& name) {
  std::ifstream in(std::string(CONF_SAMPLES_DIR) + "/" + name);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A scratch root with etc/crashkit/{crashkit.conf,crashkit.conf.d/}.
struct Root {
  fs::path dir;
  Root() {
    dir = fs::temp_directory_path() /
          ("conf_tests." + std::to_string(::getpid()) + "." + std::to_string(counter()++));
    fs::remove_all(dir);
    fs::create_directories(dir / "etc/crashkit/crashkit.conf.d");
  }
  ~Root() { fs::remove_all(dir); }
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::string write(const std::string& rel, const std::string& text) const {
    fs::path p = dir / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string main() const { return (dir / "etc/crashkit/crashkit.conf").string(); }
  std::string dropin(const std::string& name) const {
    return (dir / "etc/crashkit/crashkit.conf.d" / name).string();
  }
};

} // namespace

TEST_CASE("samples: Fedora's shipped kdump.conf is a valid crashkit.conf", "[config][samples]") {
  auto p = parse_config_text(sample("fedora-kdump.conf"), "kdump.conf");
  INFO(p.error_text());
  REQUIRE(p.ok());
  const Config& c = p.config;
  CHECK(c.auto_reset_crashkernel.value);
  CHECK(c.auto_reset_crashkernel.origin.line == 31);
  CHECK(c.path.value == "/var/crash");
  CHECK(c.core_collector.value.program == CollectorProgram::makedumpfile);
  CHECK(c.core_collector.value.settings.compression == cap::Compression::lzo);
  CHECK(c.core_collector.value.settings.dump_levels == std::vector<int>{31});
  CHECK(c.core_collector.value.settings.message_level == 7);
  CHECK(c.target.value.kind == Target::Kind::root_fs);
}

TEST_CASE("samples: a customised RHEL server kdump.conf", "[config][samples]") {
  auto p = parse_config_text(sample("rhel-server-kdump.conf"), "kdump.conf");
  INFO(p.error_text());
  REQUIRE(p.ok());
  const Config& c = p.config;
  CHECK(c.target.value.fstype == "xfs");
  CHECK(c.target.value.device.str() == "UUID=5b8e7c1d-2f4a-4c6b-9e3d-0a1b2c3d4e5f");
  CHECK(c.path.value == "/crash");
  CHECK(c.core_collector.value.settings.compression == cap::Compression::zlib);
  CHECK(c.extra_modules.value == V{"megaraid_sas", "mpt3sas"});
  CHECK(c.failure_action.value == Action::dump_to_rootfs);
  CHECK(c.kdump_post.value == V{"/usr/local/sbin/notify-dump"});
  CHECK_FALSE(c.auto_reset_crashkernel.value);
}

TEST_CASE("samples: a legacy kdump.conf is refused line by line", "[config][samples]") {
  auto p = parse_config_text(sample("legacy-kdump.conf"), "kdump.conf");
  CHECK(p.error_text() ==
        "kdump.conf:2: 'net' is a deprecated kdump.conf directive, not supported\n"
        "kdump.conf:3: 'sshkey' is a kdump.conf directive crashkit does not support\n"
        "kdump.conf:7: 'link_delay' is a deprecated kdump.conf directive, not supported\n"
        "kdump.conf:8: 'options' is a deprecated kdump.conf directive, not supported\n");
  // What did parse is still typed: the quoted collector and the deprecated 'default'.
  CHECK(p.config.core_collector.value.settings.format == cap::OutputFormat::flat);
  CHECK(p.config.failure_action.value == Action::shell);
}

TEST_CASE("files: a missing config gives the defaults", "[config][files]") {
  Root r;
  fs::remove_all(r.dir / "etc");
  auto p = load_config(r.dir.string());
  CHECK(p.ok());
  CHECK(p.config.files.empty());
  CHECK(p.config.path.value == "/var/crash");
}

TEST_CASE("files: drop-ins in lexical order, a later file overrides", "[config][files]") {
  Root r;
  r.write("etc/crashkit/crashkit.conf", "path /var/crash\nkeep_dumps 3\next4 LABEL=dumps\n"
                                        "final_action reboot\n");
  r.write("etc/crashkit/crashkit.conf.d/20-site.conf", "keep_dumps 5\nmin_free 2G\n");
  r.write("etc/crashkit/crashkit.conf.d/10-vendor.conf", "keep_dumps 4\nxfs UUID=1-2\n");
  r.write("etc/crashkit/crashkit.conf.d/30-raw.conf.disabled", "bogus\n");
  r.write("etc/crashkit/crashkit.conf.d/.hidden.conf", "bogus\n");
  r.write("etc/crashkit/crashkit.conf.d/99-last.conf/x", "bogus\n"); // a directory
  auto p = load_config(r.dir.string() + "/");
  INFO(p.error_text());
  REQUIRE(p.ok());
  const Config& c = p.config;
  CHECK(c.files == V{r.main(), r.dropin("10-vendor.conf"), r.dropin("20-site.conf")});
  CHECK(c.keep_dumps.value == 5);
  CHECK(c.keep_dumps.origin == Origin{r.dropin("20-site.conf"), 1});
  // The target is one setting: 10-vendor's xfs replaces the main file's ext4.
  CHECK(c.target.value.fstype == "xfs");
  CHECK(c.target.origin == Origin{r.dropin("10-vendor.conf"), 2});
  CHECK(c.path.origin == Origin{r.main(), 1});
  CHECK(c.min_free.value == std::uint64_t{2} << 30);
}

TEST_CASE("files: errors from every file, each with its name", "[config][files]") {
  Root r;
  r.write("etc/crashkit/crashkit.conf", "force_rebuild 1\npath nowhere\n");
  r.write("etc/crashkit/crashkit.conf.d/a.conf", "keep_dumps 1\nkeep_dumps 2\n");
  r.write("etc/crashkit/crashkit.conf.d/b.conf", "force_no_rebuild 1\nssh me@host\n");
  auto p = load_config(r.dir.string());
  CHECK(p.error_text() ==
        r.main() + ":2: path must be absolute, not 'nowhere'\n" + r.dropin("a.conf") +
            ":2: duplicate directive 'keep_dumps' (first at line 1)\n" + r.dropin("b.conf") +
            ":2: ssh targets are not supported yet\n" + r.dropin("b.conf") +
            ":1: force_no_rebuild 1 conflicts with force_rebuild 1 at " + r.main() + ":1\n");
}

TEST_CASE("files: a later file can settle an earlier conflict", "[config][files]") {
  Root r;
  r.write("etc/crashkit/crashkit.conf", "force_rebuild 1\n");
  r.write("etc/crashkit/crashkit.conf.d/a.conf", "force_no_rebuild 1\n");
  r.write("etc/crashkit/crashkit.conf.d/b.conf", "force_rebuild 0\n");
  auto p = load_config(r.dir.string());
  CHECK(p.ok());
  CHECK_FALSE(p.config.force_rebuild.value);
  CHECK(p.config.force_no_rebuild.value);
}

TEST_CASE("files: unreadable files are reported, not fatal", "[config][files][nonroot]") {
  INFO("run as an unprivileged user (ctest's conf.unprivileged does it with setpriv)");
  REQUIRE(::geteuid() != 0);
  Root r;
  std::string main = r.write("etc/crashkit/crashkit.conf", "path /x\n");
  r.write("etc/crashkit/crashkit.conf.d/a.conf", "bogus\n");
  REQUIRE(::chmod(main.c_str(), 0) == 0);
  auto p = load_config(r.dir.string());
  CHECK(p.error_text() == main + ": cannot read: Permission denied\n" + r.dropin("a.conf") +
                              ":1: unknown directive 'bogus'\n");
  REQUIRE(::chmod(main.c_str(), 0644) == 0);
}

TEST_CASE("files: root reads a mode-0 file as any other", "[config][files][root]") {
  INFO("run as root: root's reads ignore the mode bits");
  REQUIRE(::geteuid() == 0);
  Root r;
  std::string main = r.write("etc/crashkit/crashkit.conf", "path /x\n");
  r.write("etc/crashkit/crashkit.conf.d/a.conf", "bogus\n");
  REQUIRE(::chmod(main.c_str(), 0) == 0);
  auto p = load_config(r.dir.string());
  CHECK(p.error_text() == r.dropin("a.conf") + ":1: unknown directive 'bogus'\n");
  CHECK(p.config.path.value == "/x");
}

TEST_CASE("files: a dangling drop-in link and a directory as the main file", "[config][files]") {
  Root r;
  fs::create_directories(r.main());
  fs::create_symlink(r.dir / "nowhere.conf", r.dropin("50-gone.conf"));
  r.write("etc/crashkit/crashkit.conf.d/60-ok.conf", "keep_dumps 2\n");
  auto p = load_config(r.dir.string());
  CHECK(p.error_text() == r.main() + ": cannot read: Is a directory\n" + r.dropin("50-gone.conf") +
                              ": cannot read: No such file or directory\n");
  CHECK(p.config.keep_dumps.value == 2);
}

TEST_CASE("files: the shipped crashkit.conf gives the defaults, and each example parses",
          "[config][files]") {
  std::ifstream in(CONF_SHIPPED_FILE);
  REQUIRE(in);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  auto p = parse_config_text(text, "crashkit.conf");
  REQUIRE(p.ok());
  CHECK(render_config(p.config) == "");
  // Uncommenting every example line gives a valid file (one target only).
  std::string uncommented;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.size() > 1 && line[0] == '#' && line[1] != ' ' && line[1] != '\0')
      uncommented += line.substr(1) + "\n";
  }
  auto all = parse_config_text(uncommented, "uncommented.conf");
  INFO(uncommented);
  CHECK(all.error_text() == "");
  CHECK(all.config.target.value.fstype == "ext4");
  CHECK(all.config.kdump_post.value == V{"/usr/local/sbin/after-dump"});
}
