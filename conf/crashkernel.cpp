#include "crashkit/conf/crashkernel.hpp"

#include <algorithm>

#include "crashkit/conf/size.hpp"

namespace crashkit::conf {
namespace {

constexpr std::string_view kPrefix = "crashkernel=";
constexpr std::uint64_t k128M = std::uint64_t{128} << 20;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

struct SyntaxError {
  std::size_t pos = 0;
  std::string what;
};

std::string describe(char c) {
  return std::string("unexpected character '") + c + "'";
}

// Parses one value occupying text[begin, end). Positions in errors index the whole text.
std::optional<SyntaxError> parse_value(std::string_view text, std::size_t begin, std::size_t end,
                                       CrashkernelWord& out) {
  std::string_view v = text.substr(0, end);
  auto size_at = [&](std::size_t pos, std::uint64_t& value,
                     std::size_t& next) -> std::optional<SyntaxError> {
    SizeScan s = scan_size(v, pos);
    if (!s.ok())
      return SyntaxError{s.error_pos, s.error};
    value = s.value;
    next = s.end;
    return std::nullopt;
  };
  auto offset_and_end = [&](std::size_t pos) -> std::optional<SyntaxError> {
    if (pos < end && v[pos] == '@') {
      std::uint64_t off = 0;
      if (auto e = size_at(pos + 1, off, pos))
        return e;
      out.offset = off;
    }
    if (pos < end)
      return SyntaxError{pos, describe(v[pos])};
    return std::nullopt;
  };

  std::size_t pos = begin;
  std::uint64_t first = 0;
  if (begin == end)
    return SyntaxError{begin, "expected a size (a number with an optional K, M, G or T suffix)"};
  if (auto e = size_at(pos, first, pos))
    return e;

  if (pos < end && v[pos] == '-') {
    // Range form: START-[END]:SIZE{,START-[END]:SIZE}[@OFFSET]
    std::uint64_t start = first;
    for (;;) {
      CrashkernelRange r;
      r.start = start;
      ++pos; // '-'
      if (pos < end && v[pos] != ':') {
        std::size_t end_pos = pos;
        std::uint64_t range_end = 0;
        if (auto e = size_at(pos, range_end, pos))
          return e;
        if (range_end <= start)
          return SyntaxError{end_pos, "range end must be above its start"};
        r.end = range_end;
      }
      if (pos >= end || v[pos] != ':')
        return SyntaxError{pos, pos < end ? "expected ':' after the range, found '" +
                                                std::string(1, v[pos]) + "'"
                                          : std::string("expected ':' and a size after the range")};
      if (auto e = size_at(pos + 1, r.size, pos))
        return e;
      out.ranges.push_back(r);
      if (pos < end && v[pos] == ',') {
        std::string_view rest = v.substr(pos + 1, end - pos - 1);
        if (rest == "high" || rest == "low" || rest == "cma")
          return SyntaxError{pos, "'," + std::string(rest) + "' takes one size, not ranges"};
        if (auto e = size_at(pos + 1, start, pos))
          return e;
        if (pos >= end || v[pos] != '-')
          return SyntaxError{pos, pos < end ? "expected '-' after the range start, found '" +
                                                  std::string(1, v[pos]) + "'"
                                            : std::string("expected '-' after the range start")};
        continue;
      }
      return offset_and_end(pos);
    }
  }

  out.size = first;
  if (pos < end && v[pos] == ',') {
    std::string_view rest = v.substr(pos + 1, end - pos - 1);
    if (rest == "high")
      out.kind = CrashkernelKind::high;
    else if (rest == "low")
      out.kind = CrashkernelKind::low;
    else if (rest == "cma")
      out.kind = CrashkernelKind::cma;
    else
      return SyntaxError{pos + 1, "expected 'high', 'low' or 'cma' after ','"};
    return std::nullopt;
  }
  if (pos < end && v[pos] == ':')
    return SyntaxError{pos, "expected '-' between the range start and ':'"};
  return offset_and_end(pos);
}

std::string_view suffix_of(CrashkernelKind k) {
  switch (k) {
  case CrashkernelKind::high:
    return ",high";
  case CrashkernelKind::low:
    return ",low";
  case CrashkernelKind::cma:
    return ",cma";
  case CrashkernelKind::plain:
    break;
  }
  return "";
}

} // namespace

std::vector<std::pair<std::size_t, std::size_t>> cmdline_words(std::string_view s,
                                                               bool stop_at_dashes) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t i = 0;
  for (;;) {
    while (i < s.size() && is_space(s[i]))
      ++i;
    if (i >= s.size())
      break;
    std::size_t b = i;
    bool quoted = false;
    for (; i < s.size() && (quoted || !is_space(s[i])); ++i)
      if (s[i] == '"')
        quoted = !quoted;
    if (stop_at_dashes && s.substr(b, i - b) == "--")
      break;
    out.emplace_back(b, i);
  }
  return out;
}

namespace {

Result<CrashkernelSetting> parse_words(std::string_view text, bool cmdline,
                                       std::size_t* error_position) {
  CrashkernelSetting out;
  std::optional<SyntaxError> err;
  for (auto [b, e] : cmdline_words(text, cmdline)) {
    bool prefixed = text.substr(b, e - b).starts_with(kPrefix);
    if (cmdline && !prefixed)
      continue;
    CrashkernelWord w;
    err = parse_value(text, prefixed ? b + kPrefix.size() : b, e, w);
    if (err)
      break;
    out.words.push_back(std::move(w));
  }
  if (!err && out.words.empty() && !cmdline)
    err = SyntaxError{0, "no crashkernel value"};
  if (err) {
    if (error_position)
      *error_position = err->pos;
    return Error(ErrorCategory::data, "crashkernel \"" + std::string(text) + "\" at character " +
                                          std::to_string(err->pos + 1) + ": " + err->what);
  }
  return out;
}

} // namespace

Result<CrashkernelSetting> parse_crashkernel(std::string_view text, std::size_t* error_position) {
  return parse_words(text, false, error_position);
}

Result<CrashkernelSetting> parse_crashkernel_in_cmdline(std::string_view cmdline,
                                                        std::size_t* error_position) {
  return parse_words(cmdline, true, error_position);
}

std::string replace_crashkernel_in_cmdline(std::string_view cmdline,
                                           const CrashkernelSetting& setting) {
  std::string fresh = format_crashkernel(setting);
  std::string out;
  std::size_t copied = 0;
  bool placed = false;
  auto spans = cmdline_words(cmdline, false);
  std::size_t init_args = cmdline.size(); // where a bare "--" starts, if any
  for (auto [b, e] : spans) {
    if (cmdline.substr(b, e - b) == "--") {
      init_args = b;
      break;
    }
    if (!cmdline.substr(b, e - b).starts_with(kPrefix))
      continue;
    if (!placed && !fresh.empty()) {
      out.append(cmdline.substr(copied, b - copied));
      out += fresh;
      placed = true;
    } else {
      // Drop the word and the blanks before it (after it, when nothing precedes it).
      std::size_t from = b;
      while (from > copied && is_space(cmdline[from - 1]))
        --from;
      out.append(cmdline.substr(copied, from - copied));
      if (out.empty())
        while (e < cmdline.size() && is_space(cmdline[e]))
          ++e;
    }
    copied = e;
  }
  if (!placed && !fresh.empty() && !spans.empty() && init_args == cmdline.size()) {
    // A last word with an unterminated quote runs to the end of the line, as the kernel's
    // next_arg() reads it: words appended after it would be inside it. Put them before it.
    const auto [b, e] = spans.back();
    if (b >= copied && std::count(cmdline.begin() + static_cast<std::ptrdiff_t>(b),
                                  cmdline.begin() + static_cast<std::ptrdiff_t>(e), '"') %
                               2 ==
                           1) {
      out.append(cmdline.substr(copied, b - copied));
      out += fresh + " ";
      copied = b;
      placed = true;
    }
  }
  if (!placed && !fresh.empty()) {
    // Append after the last parameter (before "--"), keeping what follows it.
    std::size_t at = init_args;
    while (at > copied && is_space(cmdline[at - 1]))
      --at;
    out.append(cmdline.substr(copied, at - copied));
    if (!out.empty())
      out += ' ';
    out += fresh;
    if (at < cmdline.size() && init_args < cmdline.size() && at == init_args)
      out += ' ';
    copied = at;
  }
  out.append(cmdline.substr(copied));
  return out;
}

std::string format_crashkernel_value(const CrashkernelWord& w) {
  std::string s;
  if (w.ranges.empty()) {
    s = format_size(w.size);
  } else {
    for (std::size_t i = 0; i < w.ranges.size(); ++i) {
      const auto& r = w.ranges[i];
      if (i)
        s += ',';
      s += format_size(r.start) + '-';
      if (r.end)
        s += format_size(*r.end);
      s += ':' + format_size(r.size);
    }
  }
  if (w.offset)
    s += '@' + format_size(*w.offset);
  s += suffix_of(w.kind);
  return s;
}

std::string format_crashkernel(const CrashkernelSetting& setting) {
  std::string s;
  for (const auto& w : setting.words) {
    if (!s.empty())
      s += ' ';
    s += std::string(kPrefix) + format_crashkernel_value(w);
  }
  return s;
}

std::uint64_t crashkernel_ram_figure(std::uint64_t system_ram) {
  std::uint64_t rem = system_ram % k128M;
  if (rem == 0 || system_ram > UINT64_MAX - (k128M - rem))
    return system_ram;
  return system_ram + (k128M - rem);
}

Result<CrashkernelReservation> evaluate_crashkernel(const CrashkernelSetting& setting,
                                                    std::uint64_t system_ram) {
  CrashkernelReservation r;
  r.ram_figure = crashkernel_ram_figure(system_ram);
  const CrashkernelWord* last[4] = {nullptr, nullptr, nullptr, nullptr};
  for (const auto& w : setting.words) {
    auto& slot = last[static_cast<int>(w.kind)];
    if (slot)
      r.notes.push_back("crashkernel=" + format_crashkernel_value(*slot) +
                        " is overridden by the later crashkernel=" + format_crashkernel_value(w));
    slot = &w;
  }
  const CrashkernelWord* plain = last[static_cast<int>(CrashkernelKind::plain)];
  const CrashkernelWord* high = last[static_cast<int>(CrashkernelKind::high)];
  const CrashkernelWord* low = last[static_cast<int>(CrashkernelKind::low)];
  const CrashkernelWord* cma = last[static_cast<int>(CrashkernelKind::cma)];
  auto invalid = [&](const CrashkernelWord& w, const std::string& why) {
    return Error(ErrorCategory::data, "crashkernel=" + format_crashkernel_value(w) + ": " + why);
  };

  if (plain) {
    if (high)
      r.notes.push_back("crashkernel=" + format_crashkernel_value(*high) +
                        " is ignored because a plain crashkernel= is given");
    if (low)
      r.notes.push_back("crashkernel=" + format_crashkernel_value(*low) +
                        " is ignored because a plain crashkernel= is given");
    if (plain->ranges.empty()) {
      r.size = plain->size;
    } else {
      for (std::size_t i = 0; i < plain->ranges.size(); ++i) {
        const auto& range = plain->ranges[i];
        // The kernel checks each size before testing whether its range matches.
        if (range.size >= r.ram_figure)
          return invalid(*plain, "size " + format_size(range.size) + " of range " +
                                     std::to_string(i + 1) + " is not below the " +
                                     format_size(r.ram_figure) + " of RAM");
        if (r.ram_figure >= range.start && (!range.end || r.ram_figure < *range.end)) {
          r.size = range.size;
          r.range_index = static_cast<int>(i);
          break;
        }
      }
      if (r.range_index < 0)
        r.notes.push_back("no range of crashkernel=" + format_crashkernel_value(*plain) +
                          " matches " + format_size(r.ram_figure) + " of RAM: nothing is reserved");
    }
    if (r.size > 0)
      r.offset = plain->offset;
    else if (r.range_index >= 0 || plain->ranges.empty())
      r.notes.push_back("crashkernel=" + format_crashkernel_value(*plain) +
                        " reserves nothing (zero size)");
  } else if (high) {
    if (high->size == 0)
      return invalid(*high, "a zero ,high size is rejected by the kernel");
    r.size = high->size;
    r.high = true;
    if (low)
      r.low = low->size;
  } else {
    if (low)
      r.notes.push_back("crashkernel=" + format_crashkernel_value(*low) +
                        " is ignored without crashkernel=X,high");
    r.notes.push_back("no plain or ,high crashkernel= word: nothing is reserved");
  }
  if (r.size > 0 && r.size >= system_ram) {
    const CrashkernelWord& w = plain ? *plain : *high;
    return invalid(w, "size " + format_size(r.size) + " is not below the RAM size " +
                          format_size(system_ram));
  }
  if (cma && r.size > 0)
    r.cma = cma->size;
  else if (cma)
    r.notes.push_back("crashkernel=" + format_crashkernel_value(*cma) +
                      " is ignored when no main region is reserved");
  return r;
}

} // namespace crashkit::conf
