#include "crashkit/capture/page_classifier.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <set>

#include "layout_keys.hpp"
#include "struct_fields.hpp"

namespace crashkit::capture {
namespace {

// Page-type values: 2.6.39–4.17 exported literal negative mapcounts, 4.18–6.11 a cleared bit
// in 0xffffffff, 6.12+ PGTY_* << 24 with the low 24 bits free for the type's own use. A value
// whose low 24 bits are zero and whose top byte is a type code is compared on the top byte only,
// so a future kernel storing data in the low bits still classifies; anything else compares exactly.
bool type_matches(std::uint32_t mapcount, std::uint32_t value) {
  const bool top_byte_encoding =
      (value & 0x00ffffffU) == 0 && (value >> 24) >= 0x80 && (value >> 24) != 0xff;
  if (top_byte_encoding)
    return (mapcount >> 24) == (value >> 24);
  return mapcount == value;
}

// LENGTH(zone.free_area) is NR_PAGE_ORDERS (MAX_ORDER before 6.8); include/linux/mmzone.h
// refuses MAX_PAGE_ORDER + PAGE_SHIFT > SECTION_SIZE_BITS, so with x86_64's 27-bit sections and
// 4 KiB pages there are at most 27 - 12 + 1 orders.
constexpr std::int64_t kMaxFreeAreaOrders = 16;

/// Reads the struct page layout out of VMCOREINFO, remembering every value that is present but
/// impossible: whatever needs it is undecidable, as if missing, and the warning shows the value
/// and why it was refused.
class LayoutReader {
public:
  LayoutReader(const Vmcoreinfo& info, PageLayout& L) : info_(info), L_(L) {}

  void refuse(const std::string& key, std::int64_t v, const std::string& why) {
    impossible_[key] = key_value(key, v) + " (" + why + ")";
  }
  bool refused(const std::string& key) const { return impossible_.count(key) != 0; }
  const std::map<std::string, std::string>& impossible() const { return impossible_; }

  // A flag bit number indexes a 64-bit page->flags.
  std::optional<std::int64_t> flag_bit(const char* n) {
    auto v = info_.number(n);
    if (v && (*v < 0 || *v >= 64)) {
      refuse(std::string("NUMBER(") + n + ")", *v, "not a bit of the 64-bit page flags");
      return std::nullopt;
    }
    return v;
  }
  std::optional<std::uint32_t> u32(const char* n) const {
    auto v = info_.number(n);
    if (!v)
      return std::nullopt;
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(*v));
  }
  // An offset into a struct page copied with SIZE(page) bytes: `width` bytes at `off` must lie
  // inside it. `shift` moves folio offsets that count from the head page into page 1.
  std::int64_t page_field(const std::string& key, std::optional<std::int64_t> v,
                          std::uint64_t width, std::int64_t shift = 0) {
    if (!v || L_.struct_size == 0)
      return -1;
    const std::int64_t off = *v - shift;
    if (*v < shift || !field_fits(static_cast<std::uint64_t>(off), width, L_.struct_size)) {
      refuse(key, *v,
             "a " + std::to_string(width) + "-byte field outside the " +
                 std::to_string(L_.struct_size) + "-byte " + (shift ? "second " : "") +
                 "struct page");
      return -1;
    }
    return off;
  }
  std::int64_t member(const char* m, std::uint64_t width) {
    return page_field(std::string("OFFSET(page.") + m + ")", info_.offset(std::string("page.") + m),
                      width);
  }
  // The name a warning gives a key the classes need: the key, or its refused value.
  std::string named(const std::string& key) const {
    auto it = impossible_.find(key);
    return it == impossible_.end() ? key : it->second;
  }

private:
  const Vmcoreinfo& info_;
  PageLayout& L_;
  std::map<std::string, std::string> impossible_;
};

// "lacks A, B" or, when a value was refused, "has missing or impossible A, B=v (why)".
std::string lacks(const std::vector<std::string>& names) {
  const bool any_bad = std::any_of(names.begin(), names.end(), [](const std::string& n) {
    return n.find('=') != std::string::npos;
  });
  return std::string(any_bad ? "VMCOREINFO has missing or impossible " : "VMCOREINFO lacks ") +
         join_names(names);
}

void read_page_fields(const Vmcoreinfo& info, LayoutReader& r, PageLayout& L) {
  if (auto s = info.size("page")) {
    if (*s >= kMinStructPageSize && *s <= kMaxStructPageSize)
      L.struct_size = static_cast<std::uint64_t>(*s);
    else
      r.refuse("SIZE(page)", *s,
               "not a struct page size: " + std::to_string(kMinStructPageSize) + ".." +
                   std::to_string(kMaxStructPageSize) + " bytes");
  }
  L.off_flags = r.member("flags", 8);
  L.off_mapping = r.member("mapping", 8);
  L.off_mapcount = r.member("_mapcount", 4);
  L.off_private = r.member("private", 8);
  // Linux 7.1 renamed compound_head to compound_info (same tail bit 0).
  L.off_compound_head = info.offset("page.compound_head") ? r.member("compound_head", 8)
                                                          : r.member("compound_info", 8);
  L.pg_lru = r.flag_bit("PG_lru");
  L.pg_private = r.flag_bit("PG_private");
  L.pg_swapcache = r.flag_bit("PG_swapcache");
  L.pg_swapbacked = r.flag_bit("PG_swapbacked");
  L.pg_slab = r.flag_bit("PG_slab");
  L.pg_hwpoison = r.flag_bit("PG_hwpoison");
  L.pg_hugetlb = r.flag_bit("PG_hugetlb");
  L.pg_buddy = r.flag_bit("PG_buddy");
  if (auto m = info.number("PG_head_mask")) {
    // 1UL << PG_head: exactly one bit.
    if (std::has_single_bit(static_cast<std::uint64_t>(*m)))
      L.pg_head_mask = static_cast<std::uint64_t>(*m);
    else
      r.refuse("NUMBER(PG_head_mask)", *m, "not a single flag bit");
  }
  L.buddy_value = r.u32("PAGE_BUDDY_MAPCOUNT_VALUE");
  L.offline_value = r.u32("PAGE_OFFLINE_MAPCOUNT_VALUE");
  L.slab_value = r.u32("PAGE_SLAB_MAPCOUNT_VALUE");
  L.hugetlb_value = r.u32("PAGE_HUGETLB_MAPCOUNT_VALUE");
  L.unaccepted_value = r.u32("PAGE_UNACCEPTED_MAPCOUNT_VALUE");
  // Absent: the x86_64 default of 11 orders.
  if (auto n = info.length("zone.free_area")) {
    if (*n >= 1 && *n <= kMaxFreeAreaOrders)
      L.max_order = static_cast<std::uint64_t>(*n);
    else
      r.refuse("LENGTH(zone.free_area)", *n,
               "not a number of buddy orders: 1.." + std::to_string(kMaxFreeAreaOrders));
  }
}

// Compound order location, by which keys this kernel exported. Returns the key a warning
// names when there is none.
std::string read_order_source(const Vmcoreinfo& info, LayoutReader& r, PageLayout& L) {
  const auto page_sz = static_cast<std::int64_t>(L.struct_size);
  std::string order_key = "OFFSET(page.compound_order) or OFFSET(folio._folio_order)";
  if (auto o = info.offset("page.compound_order")) {
    // 4.16 narrowed compound_order/dtor from unsigned short to unsigned char.
    const std::uint32_t ver = info.kernel_version();
    const bool u16 = ver != 0 && ver < ((4u << 16) | (16u << 8));
    const std::uint64_t width = u16 ? 2 : 1;
    order_key = "OFFSET(page.compound_order)";
    L.off_order_in_tail = r.page_field(order_key, o, width);
    L.off_dtor_in_tail =
        r.page_field("OFFSET(page.compound_dtor)", info.offset("page.compound_dtor"), width);
    if (L.off_order_in_tail >= 0)
      L.order_source =
          u16 ? PageLayout::OrderSource::page_field_u16 : PageLayout::OrderSource::page_field_u8;
  } else if (auto fo = info.offset("folio._folio_order"); fo && page_sz > 0 && *fo >= page_sz) {
    order_key = "OFFSET(folio._folio_order)";
    L.off_order_in_tail = r.page_field(order_key, fo, 1, page_sz);
    L.off_dtor_in_tail =
        r.page_field("OFFSET(folio._folio_dtor)", info.offset("folio._folio_dtor"), 1, page_sz);
    if (L.off_order_in_tail >= 0)
      L.order_source = PageLayout::OrderSource::page_field_u8; // 6.3–6.5: folio fields in page 1
  } else if (L.pg_head_mask && L.off_flags >= 0) {
    // 6.6+: the order is the low byte of the first tail page's flags (folio._flags_1).
    L.order_source = PageLayout::OrderSource::tail_flags_low_byte;
  }
  L.hugetlb_dtor = info.number("HUGETLB_PAGE_DTOR");
  return order_key;
}

// What the scan needs at all: struct pages and the way to find them.
std::vector<std::string> scan_missing(const Vmcoreinfo& info, const LayoutReader& r,
                                      const PageLayout& L) {
  std::vector<std::string> miss;
  if (L.struct_size == 0)
    miss.push_back(r.named("SIZE(page)"));
  if (L.off_flags < 0)
    miss.push_back(r.named("OFFSET(page.flags)"));
  if (!info.symbol("mem_section"))
    miss.push_back("SYMBOL(mem_section)");
  if (!info.size("mem_section"))
    miss.push_back("SIZE(mem_section)");
  if (!info.offset("mem_section.section_mem_map"))
    miss.push_back("OFFSET(mem_section.section_mem_map)");
  if (!info.symbol("init_top_pgt") && !info.symbol("init_level4_pgt"))
    miss.push_back("SYMBOL(init_top_pgt)");
  if (L.off_compound_head < 0)
    miss.push_back(r.named(info.offset("page.compound_info") && !info.offset("page.compound_head")
                               ? "OFFSET(page.compound_info)"
                               : "OFFSET(page.compound_head)"));
  return miss;
}

// Slab detection matters for every class that looks at page.mapping: since 6.2 slab's
// fields overlap mapping, so without it a slab page can look anonymous. Keeping pages whose
// class we cannot decide is the safe side.
const std::string kSlabKeys = "NUMBER(PG_slab) or NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)";

std::string slab_key(const LayoutReader& r) {
  return r.named(r.refused("NUMBER(PG_slab)") ? "NUMBER(PG_slab)" : kSlabKeys);
}
bool can_slab(const PageLayout& L) {
  return L.slab_value.has_value() || L.pg_slab.has_value();
}

// Keys the page-cache classes (both bits) need.
std::vector<std::string> cache_missing(const LayoutReader& r, const PageLayout& L) {
  std::vector<std::string> miss;
  if (!L.pg_lru)
    miss.push_back(r.named("NUMBER(PG_lru)"));
  if (!L.pg_private)
    miss.push_back(r.named("NUMBER(PG_private)"));
  if (!L.pg_swapcache)
    miss.push_back(r.named("NUMBER(PG_swapcache)"));
  if (L.off_mapping < 0)
    miss.push_back(r.named("OFFSET(page.mapping)"));
  if (!can_slab(L))
    miss.push_back(slab_key(r));
  if (L.slab_value && L.off_mapcount < 0)
    miss.push_back(r.named("OFFSET(page._mapcount)"));
  if (r.refused("NUMBER(PG_swapbacked)"))
    miss.push_back(r.named("NUMBER(PG_swapbacked)"));
  return miss;
}

std::vector<std::string> user_missing(const LayoutReader& r, const PageLayout& L,
                                      const std::string& order_key) {
  std::vector<std::string> miss;
  if (L.off_mapping < 0)
    miss.push_back(r.named("OFFSET(page.mapping)"));
  if (!can_slab(L))
    miss.push_back(slab_key(r));
  if (!L.pg_head_mask)
    miss.push_back(r.named("NUMBER(PG_head_mask)"));
  if (L.order_source == PageLayout::OrderSource::none)
    miss.push_back(r.named(order_key));
  if (L.slab_value && L.off_mapcount < 0)
    miss.push_back(r.named("OFFSET(page._mapcount)"));
  // A refused dtor or PG_hugetlb cannot tell hugetlb pages from kernel ones.
  for (const char* k :
       {"OFFSET(page.compound_dtor)", "OFFSET(folio._folio_dtor)", "NUMBER(PG_hugetlb)"})
    if (r.refused(k))
      miss.push_back(r.named(k));
  return miss;
}

std::vector<std::string> free_missing(const LayoutReader& r, const PageLayout& L) {
  std::vector<std::string> miss;
  if (!L.buddy_value && !L.pg_buddy)
    miss.push_back(r.named(r.refused("NUMBER(PG_buddy)") ? "NUMBER(PG_buddy)"
                                                         : "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)"));
  if (L.buddy_value && L.off_mapcount < 0)
    miss.push_back(r.named("OFFSET(page._mapcount)"));
  if (L.off_private < 0)
    miss.push_back(r.named("OFFSET(page.private)"));
  if (r.refused("LENGTH(zone.free_area)"))
    miss.push_back(r.named("LENGTH(zone.free_area)"));
  return miss;
}

/// Drops the level bits whose keys are missing, one warning per bit, and remembers which
/// refused keys a warning named.
struct LevelReducer {
  int level;
  std::vector<std::string>& warnings;
  std::set<std::string> used; // refused keys some warning already names

  void drop(int bit, const std::vector<std::string>& missing, const char* what) {
    if (!(level & bit) || missing.empty())
      return;
    warnings.push_back(lacks(missing) + ": " + what + " pages are kept (dump level bit " +
                       std::to_string(bit) + " dropped)");
    level &= ~bit;
    for (const auto& m : missing)
      if (auto eq = m.find('='); eq != std::string::npos)
        used.insert(m.substr(0, eq));
  }
};

// The level when struct pages cannot be scanned at all: zero pages only, and why.
int zero_pages_only(const Vmcoreinfo& info, const LayoutReader& r,
                    const std::vector<std::string>& scan_miss, int level,
                    std::vector<std::string>& warnings) {
  if (info.empty()) {
    if (level & ~kExcludeZero)
      warnings.push_back("the vmcore has no VMCOREINFO note: only zero pages can be excluded "
                         "(dump level " +
                         std::to_string(level) + " reduced to " +
                         std::to_string(level & kExcludeZero) + ")");
  } else if (level & ~kExcludeZero || !r.impossible().empty()) {
    // Also when only zero pages were asked for: a refused value is worth a line either way.
    warnings.push_back(lacks(scan_miss) +
                       ": struct pages cannot be read, so only zero pages are excluded (dump "
                       "level " +
                       std::to_string(level) + " reduced to " +
                       std::to_string(level & kExcludeZero) + ")");
  }
  return level & kExcludeZero;
}

} // namespace

PageClassifier PageClassifier::create(const Vmcoreinfo& info, int requested,
                                      std::vector<std::string>& warnings) {
  PageClassifier c;
  PageLayout& L = c.lay_;
  LayoutReader r(info, L);
  read_page_fields(info, r, L);
  const std::string order_key = read_order_source(info, r, L);

  const std::vector<std::string> scan_miss = scan_missing(info, r, L);
  if (info.empty() || !scan_miss.empty()) {
    c.level_ = zero_pages_only(info, r, scan_miss, requested & 31, warnings);
    return c;
  }
  LevelReducer levels{requested & 31, warnings, {}};
  const auto cache = cache_missing(r, L);
  levels.drop(kExcludeCacheNonPrivate, cache, "page-cache");
  levels.drop(kExcludeCachePrivate, cache, "private page-cache");
  levels.drop(kExcludeUser, user_missing(r, L, order_key), "user-data");
  levels.drop(kExcludeFree, free_missing(r, L), "free");
  // Refused values no dropped class named (a class not requested, hwpoison, offline): still say
  // so, since they decide what is kept.
  std::vector<std::string> unnamed;
  for (const auto& [key, text] : r.impossible())
    if (!levels.used.count(key))
      unnamed.push_back(text);
  if (!unnamed.empty())
    warnings.push_back("VMCOREINFO has impossible " + join_names(unnamed) +
                       ": pages whose class depends on them are kept");
  c.level_ = levels.level;
  c.can_hwpoison_ = L.pg_hwpoison.has_value();
  c.can_offline_ = L.offline_value.has_value() && L.off_mapcount >= 0;
  c.scan_ = (c.level_ & ~kExcludeZero) != 0 || c.can_hwpoison_ || c.can_offline_;
  return c;
}

PageDecision PageClassifier::classify(const std::uint8_t* sp, const std::uint8_t* tail,
                                      std::uint64_t pfn) const {
  const PageLayout& L = lay_;
  const auto flags = load_field<std::uint64_t>(sp, L.off_flags);
  const auto compound_head = load_field<std::uint64_t>(sp, L.off_compound_head);
  if (compound_head & 1)
    return {PageClass::tail, 1};

  const std::uint32_t mapcount =
      L.off_mapcount >= 0 ? load_field<std::uint32_t>(sp, L.off_mapcount) : 0xffffffffU;
  auto bit = [&](const std::optional<std::int64_t>& b) {
    return b && *b >= 0 && *b < 64 && ((flags >> *b) & 1);
  };
  auto typed = [&](const std::optional<std::uint32_t>& v) {
    return v && L.off_mapcount >= 0 && type_matches(mapcount, *v);
  };
  const bool is_slab = typed(L.slab_value) || bit(L.pg_slab);

  // Compound extent (order) when this is a head page.
  std::uint64_t nr_pages = 1;
  bool is_hugetlb = false;
  const bool is_head = L.pg_head_mask && (flags & *L.pg_head_mask);
  if (is_head && tail) {
    std::uint64_t order = 0;
    switch (L.order_source) {
    case PageLayout::OrderSource::page_field_u16:
      order = load_field<std::uint16_t>(tail, L.off_order_in_tail);
      if (L.off_dtor_in_tail >= 0 && L.hugetlb_dtor)
        is_hugetlb = load_field<std::uint16_t>(tail, L.off_dtor_in_tail) == *L.hugetlb_dtor;
      break;
    case PageLayout::OrderSource::page_field_u8:
      order = load_field<std::uint8_t>(tail, L.off_order_in_tail);
      if (L.off_dtor_in_tail >= 0 && L.hugetlb_dtor)
        is_hugetlb = load_field<std::uint8_t>(tail, L.off_dtor_in_tail) == *L.hugetlb_dtor;
      break;
    case PageLayout::OrderSource::tail_flags_low_byte: {
      const auto tflags = load_field<std::uint64_t>(tail, L.off_flags);
      order = tflags & 0xff;
      if (L.pg_hugetlb)
        is_hugetlb = (tflags >> *L.pg_hugetlb) & 1; // 6.6–6.8
      break;
    }
    case PageLayout::OrderSource::none:
      break;
    }
    // 6.9+: hugetlb is a page type of the head.
    if (typed(L.hugetlb_value))
      is_hugetlb = true;
    // A corrupt order must not swallow neighbours: it has to be small and align with pfn.
    if (order > 0 && order < 64 && order <= 30 && (pfn & ((1ULL << order) - 1)) == 0)
      nr_pages = 1ULL << order;
  } else if (typed(L.hugetlb_value)) {
    is_hugetlb = true;
  }

  // Free (buddy): order is in page.private of the first page of the block.
  if (level_ & kExcludeFree) {
    const bool buddy = (L.buddy_value ? typed(L.buddy_value) && !is_slab : bit(L.pg_buddy));
    if (buddy) {
      const auto order = load_field<std::uint64_t>(sp, L.off_private);
      if (order < L.max_order && (pfn & ((1ULL << order) - 1)) == 0)
        return {PageClass::free, 1ULL << order};
      return {PageClass::keep, 1}; // implausible order: keep rather than guess
    }
    if (typed(L.unaccepted_value)) {
      const std::uint64_t n = 1ULL << (L.max_order - 1);
      if ((pfn & (n - 1)) == 0)
        return {PageClass::unaccepted, n};
      return {PageClass::keep, 1};
    }
  }

  const std::uint64_t mapping =
      L.off_mapping >= 0 ? load_field<std::uint64_t>(sp, L.off_mapping) : 0;
  const bool is_anon = (mapping & 1) && !is_slab;
  const bool is_cache =
      !is_slab &&
      (bit(L.pg_lru) || (bit(L.pg_swapcache) && (!L.pg_swapbacked || bit(L.pg_swapbacked))));
  const bool is_private = bit(L.pg_private);

  if ((level_ & kExcludeCacheNonPrivate) && is_cache && !is_private && !is_anon)
    return {PageClass::cache, nr_pages};
  if ((level_ & kExcludeCachePrivate) && is_cache && !is_anon)
    return {PageClass::cache_private, nr_pages}; // makedumpfile counts all of these as private
  if ((level_ & kExcludeUser) && (is_anon || is_hugetlb))
    return {PageClass::user, nr_pages};
  if (bit(L.pg_hwpoison))
    return {PageClass::hwpoison, 1};
  if (can_offline_ && typed(L.offline_value) && !is_slab)
    return {PageClass::offline, 1};
  return {PageClass::keep, 1};
}

} // namespace crashkit::capture
