#include "crashkit/bootcfg/reset_plan.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <set>

#include "crashkit/base/process.hpp"
#include "crashkit/bootcfg/bls_entry.hpp"
#include "crashkit/bootcfg/grub_default.hpp"
#include "shell_word.hpp"

namespace crashkit::bootcfg {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kGrubDefault = "/etc/default/grub";
constexpr std::string_view kGrubDefaultDir = "/etc/default/grub.d";
constexpr std::string_view kKernelCmdline = "/etc/kernel/cmdline";
// $BOOT candidates of the Boot Loader Specification.
constexpr std::string_view kEntryDirs[] = {"/boot/loader/entries", "/efi/loader/entries",
                                           "/boot/efi/loader/entries"};
constexpr std::string_view kPathDirs[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                          "/usr/bin",        "/sbin",          "/bin"};

std::string join(const std::string& root, std::string_view path) {
  std::string r = root;
  while (!r.empty() && r.back() == '/')
    r.pop_back();
  return r + std::string(path);
}

bool is_regular(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Where name is in the root's PATH, as a path inside the root; "" when absent.
std::string find_program(const std::string& root, std::string_view name) {
  for (auto dir : kPathDirs) {
    std::string inside = std::string(dir) + "/" + std::string(name);
    std::string here = join(root, inside);
    if (is_regular(here) && ::access(here.c_str(), X_OK) == 0)
      return inside;
  }
  return {};
}

struct Entry {
  std::string path;
  std::string shown;
  std::string text;
  std::string version;
};

Result<std::vector<Entry>> read_entries(const std::string& root, std::string& dir_shown) {
  std::vector<Entry> out;
  std::set<fs::path> seen;
  for (auto dir : kEntryDirs) {
    std::string here = join(root, dir);
    std::error_code ec;
    if (!fs::is_directory(here, ec))
      continue;
    fs::path canon = fs::canonical(here, ec);
    if (ec || !seen.insert(canon).second)
      continue;
    std::vector<std::string> names;
    for (const auto& de : fs::directory_iterator(here, ec)) {
      std::string name = de.path().filename().string();
      if (name.ends_with(".conf") && name[0] != '.' && de.is_regular_file(ec))
        names.push_back(name);
    }
    if (ec)
      return Error(ErrorCategory::io, "list the boot entries: " + ec.message()).with_path(here);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      Entry e;
      e.path = here + "/" + name;
      e.shown = std::string(dir) + "/" + name;
      e.text = CK_TRY(read_text_file(e.path));
      e.version = bls_entry_version(e.text, name);
      out.push_back(std::move(e));
    }
    if (!names.empty() && dir_shown.empty())
      dir_shown = dir;
  }
  return out;
}

std::string wanted_version(std::string_view kernel) {
  if (kernel.empty() || kernel == "ALL")
    return {};
  std::string_view base = kernel.substr(kernel.rfind('/') + 1);
  if (base.starts_with("vmlinuz-") && kernel.find('/') != std::string_view::npos)
    base.remove_prefix(8);
  return std::string(base);
}

// The command that regenerates grub.cfg from /etc/default/grub, as found in the root.
std::vector<std::string> grub_regenerate(const std::string& root) {
  bool grub2 = is_regular(join(root, "/boot/grub2/grub.cfg"));
  std::string mk2 = find_program(root, "grub2-mkconfig");
  if (grub2 && !mk2.empty())
    return {mk2, "-o", "/boot/grub2/grub.cfg"};
  if (auto p = find_program(root, "update-grub"); !p.empty())
    return {p};
  if (auto p = find_program(root, "grub-mkconfig"); !p.empty())
    return {p, "-o", "/boot/grub/grub.cfg"};
  if (!mk2.empty())
    return {mk2, "-o", "/boot/grub2/grub.cfg"};
  return {};
}

// Lines of /etc/default/grub.d/*.cfg that set crashkernel= too (Debian's kdump-tools ships one).
Result<std::vector<std::string>> grub_dropin_notes(const std::string& root) {
  std::vector<std::string> out;
  std::string here = join(root, kGrubDefaultDir);
  std::error_code ec;
  if (!fs::is_directory(here, ec))
    return out;
  std::vector<std::string> names;
  for (const auto& de : fs::directory_iterator(here, ec))
    if (de.path().extension() == ".cfg")
      names.push_back(de.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    auto text = CK_TRY(read_text_file(here + "/" + name));
    std::size_t line = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string::npos)
        end = text.size();
      ++line;
      std::string_view l = std::string_view(text).substr(pos, end - pos);
      std::size_t first = l.find_first_not_of(" \t");
      if (first != std::string_view::npos && l[first] != '#' &&
          l.find("crashkernel=") != std::string_view::npos)
        out.push_back(std::string(kGrubDefaultDir) + "/" + name + ":" + std::to_string(line) +
                      ": sets crashkernel= too and is read after " + std::string(kGrubDefault) +
                      "; not changed, remove it by hand if it conflicts");
      pos = end + 1;
    }
  }
  return out;
}

bool is_live_root(const std::string& root) {
  std::error_code ec;
  auto canon = fs::weakly_canonical(root.empty() ? "/" : root, ec);
  return !ec && canon == "/";
}

} // namespace

Result<conf::CrashkernelSetting>
resolve_crashkernel_value(std::optional<std::string_view> explicit_value,
                          std::string_view default_value) {
  std::string_view text = explicit_value ? *explicit_value : default_value;
  std::string_view what = explicit_value ? "--value" : "default crashkernel value";
  if (text == "off" || text == "crashkernel=off")
    return conf::CrashkernelSetting{};
  if (text.empty())
    return Error(ErrorCategory::usage,
                 std::string(what) + " is empty (use \"off\" to remove crashkernel=)");
  auto parsed = conf::parse_crashkernel(text);
  if (!parsed)
    return Error(ErrorCategory::usage, std::string(what) + ": " + parsed.error().what());
  return std::move(*parsed);
}

Result<ResetPlan> plan_reset(const ResetRequest& req) {
  ResetPlan plan;
  const std::string& root = req.root.empty() ? std::string("/") : req.root;
  {
    std::error_code ec;
    if (!fs::is_directory(root, ec))
      return Error(ErrorCategory::no_input, "not a directory (--root)").with_path(root);
  }
  const bool live = is_live_root(root);
  std::string skip = req.dry_run ? "dry run" : live ? "" : "--root: run it inside that system";
  const std::string version = wanted_version(req.kernel);
  const std::string selection_note =
      "holds one command line for every kernel; --kernel " + req.kernel + " does not apply to it";
  const conf::CrashkernelSetting& setting = req.setting;

  // BLS entries.
  std::string entry_dir;
  auto entries = CK_TRY(read_entries(root, entry_dir));
  if (!entries.empty()) {
    plan.sources.push_back("BLS entries in " + entry_dir + " (" + std::to_string(entries.size()) +
                           ")");
    std::vector<const Entry*> selected;
    for (const auto& e : entries)
      if (version.empty() || e.version == version)
        selected.push_back(&e);
    if (selected.empty()) {
      std::string known;
      for (const auto& e : entries)
        known += (known.empty() ? "" : ", ") + e.version;
      return Error(ErrorCategory::no_input,
                   "no boot entry for kernel " + version + " (entries are for: " + known + ")")
          .with_path(entry_dir);
    }
    std::string grubby = find_program(root, "grubby");
    bool use_grubby = req.use_grubby.value_or(live && !grubby.empty());
    bool needs = false;
    for (const Entry* e : selected) {
      auto now = conf::parse_crashkernel_in_cmdline(bls_entry_options(e->text));
      plan.current.push_back({e->shown, now ? std::optional(std::move(*now)) : std::nullopt});
      std::string fresh = edit_bls_entry(e->text, setting);
      if (bls_entry_options(e->text).find("$kernelopts") != std::string::npos)
        plan.notes.push_back(e->shown +
                             ": options use $kernelopts from grubenv, whose crashkernel= is not "
                             "changed; the words written here come after it and win");
      if (fresh == e->text)
        continue;
      needs = true;
      if (!use_grubby)
        plan.edits.push_back({e->path, e->shown, e->text, std::move(fresh)});
    }
    if (use_grubby && needs) {
      if (grubby.empty())
        grubby = "grubby";
      std::string target =
          "--update-kernel=" + (version.empty() ? "ALL" : "/boot/vmlinuz-" + version);
      if (setting.words.size() != 1)
        plan.commands.push_back({{grubby, target, "--remove-args=crashkernel"}, skip});
      if (!setting.words.empty())
        plan.commands.push_back(
            {{grubby, target, "--args=" + conf::format_crashkernel(setting)}, skip});
      plan.notes.push_back("BLS entries are changed through " + grubby + " (found in PATH)");
    }
  }

  // kernel-install's command line.
  if (std::string path = join(root, kKernelCmdline); is_regular(path)) {
    plan.sources.push_back(std::string(kKernelCmdline));
    auto text = CK_TRY(read_text_file(path));
    auto current = conf::parse_crashkernel_in_cmdline(text);
    plan.current.push_back(
        {std::string(kKernelCmdline), current ? std::optional(*current) : std::nullopt});
    if (!(current && *current == setting)) {
      std::string fresh = conf::replace_crashkernel_in_cmdline(text, setting);
      if (fresh != text)
        plan.edits.push_back({path, std::string(kKernelCmdline), text, std::move(fresh)});
    }
    if (!version.empty())
      plan.notes.push_back(std::string(kKernelCmdline) + " " + selection_note);
  }

  // GRUB's defaults.
  if (std::string path = join(root, kGrubDefault); is_regular(path)) {
    plan.sources.push_back(std::string(kGrubDefault));
    auto text = CK_TRY(read_text_file(path));
    auto edit = CK_TRY(edit_grub_default(text, setting, std::string(kGrubDefault)));
    plan.current.push_back({std::string(kGrubDefault), edit.current});
    plan.notes.insert(plan.notes.end(), edit.notes.begin(), edit.notes.end());
    auto dropins = CK_TRY(grub_dropin_notes(root));
    plan.notes.insert(plan.notes.end(), dropins.begin(), dropins.end());
    if (!version.empty())
      plan.notes.push_back(std::string(kGrubDefault) + " " + selection_note);
    if (edit.text != text) {
      plan.edits.push_back({path, std::string(kGrubDefault), text, std::move(edit.text)});
      if (edit.blscfg && !entries.empty()) {
        plan.notes.push_back("grub.cfg reads the BLS entries (GRUB_ENABLE_BLSCFG=true); it is not "
                             "regenerated");
      } else if (auto argv = grub_regenerate(root); !argv.empty()) {
        plan.commands.push_back({std::move(argv), skip});
      } else {
        plan.notes.push_back("no update-grub, grub-mkconfig or grub2-mkconfig found: regenerate "
                             "grub.cfg from " +
                             std::string(kGrubDefault) + " yourself");
      }
    }
  }

  if (plan.sources.empty())
    return Error(ErrorCategory::no_input,
                 "no boot configuration found (looked for /boot/loader/entries/*.conf, " +
                     std::string(kKernelCmdline) + ", " + std::string(kGrubDefault) + ")")
        .with_path(root);
  return plan;
}

std::string format_plan(const ResetPlan& plan) {
  std::string out;
  for (const auto& e : plan.edits)
    out += format_diff(e);
  for (const auto& c : plan.commands) {
    std::string line;
    for (const auto& a : c.argv)
      line += (line.empty() ? "" : " ") + shell_quote(a);
    out += c.skip_reason.empty() ? "run: " + line + "\n"
                                 : "not run (" + c.skip_reason + "): " + line + "\n";
  }
  if (plan.edits.empty() && plan.commands.empty())
    out += "no change needed\n";
  for (const auto& n : plan.notes)
    out += "note: " + n + "\n";
  return out;
}

Status apply_plan(const ResetPlan& plan) {
  for (const auto& e : plan.edits)
    CK_TRY(apply_file_edit(e));
  return {};
}

namespace {

// Runs argv without a shell and waits for it.
Status run_command(const std::vector<std::string>& argv) {
  auto rc = CK_TRY(spawn_wait(argv));
  if (rc == 0)
    return {};
  std::string how = rc > 0 ? "exited with status " + std::to_string(rc)
                           : "killed by signal " + std::to_string(-rc);
  return Error(ErrorCategory::unsupported,
               how + "; the files are written, regenerate the boot configuration by hand")
      .with_path(argv[0]);
}

} // namespace

Status execute_plan(const ResetPlan& plan) {
  CK_TRY(apply_plan(plan));
  for (const auto& c : plan.commands)
    if (c.skip_reason.empty())
      CK_TRY(run_command(c.argv));
  return {};
}

} // namespace crashkit::bootcfg
