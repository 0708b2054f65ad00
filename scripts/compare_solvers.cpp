// Reads a `jobbridge batch --export` folder, builds the batch's
// household-first min-cost flow network exactly as jobbridge does
// (src/matching/assign/optimal.rs), writes it as a flat binary file for
// other solvers (scripts/compare_solvers.py feeds it to OR-Tools), and, when
// built with -DHAVE_LEMON, solves it with LEMON's NetworkSimplex.
//
// Output: one JSON object per line on stdout.
//
//   compare_solvers EXPORT_DIR GRAPH_OUT [REPEAT]
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>
#ifdef HAVE_LEMON
#include <lemon/network_simplex.h>
#include <lemon/static_graph.h>
#endif

using i64 = long long;

static double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Lines {
  FILE *f;
  char *buf = nullptr;
  size_t cap = 0;
  explicit Lines(const std::string &path) {
    f = std::fopen(path.c_str(), "r");
    if (!f) {
      std::fprintf(stderr, "cannot open %s\n", path.c_str());
      std::exit(2);
    }
    next();  // header
  }
  ~Lines() { std::fclose(f); std::free(buf); }
  // Next line split on commas (in place); false at the end.
  bool next(std::vector<char *> *fields = nullptr) {
    ssize_t len = getline(&buf, &cap, f);
    if (len <= 0) return false;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = 0;
    if (fields) {
      fields->clear();
      fields->push_back(buf);
      for (char *p = buf; *p; ++p)
        if (*p == ',') { *p = 0; fields->push_back(p + 1); }
    }
    return true;
  }
};

// "0.731250" -> 731250, exactly.
static i64 micro(const char *s) {
  i64 whole = 0, frac = 0;
  int digits = 0;
  const char *p = s;
  for (; *p && *p != '.'; ++p) whole = whole * 10 + (*p - '0');
  if (*p == '.')
    for (++p; *p && digits < 6; ++p, ++digits) frac = frac * 10 + (*p - '0');
  for (; digits < 6; ++digits) frac *= 10;
  return whole * 1000000 + frac;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s EXPORT_DIR GRAPH_OUT [REPEAT]\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  int repeat = argc > 3 ? std::atoi(argv[3]) : 1;
  double t0 = now();
  std::vector<char *> f;

  // Workers, in file order (the batch's order).
  std::unordered_map<std::string, int> worker, household, opening;
  std::vector<int> worker_household;
  std::vector<char> zero;
  {
    Lines in(dir + "/workers.csv");
    while (in.next(&f)) {
      auto h = household.emplace(f[1], (int)household.size());
      if (h.second) zero.push_back(std::strcmp(f[2], "true") == 0);
      worker.emplace(f[0], (int)worker.size());
      worker_household.push_back(h.first->second);
    }
  }
  std::vector<i64> slots;
  {
    Lines in(dir + "/openings.csv");
    while (in.next(&f)) {
      opening.emplace(f[0], (int)opening.size());
      slots.push_back(std::atoll(f[1]));
    }
  }
  const int n = (int)worker.size(), m = (int)opening.size();
  // Edges, grouped by worker as the file lists them.
  std::vector<int> edge_worker, edge_opening;
  std::vector<i64> edge_score;
  {
    Lines in(dir + "/edges.csv");
    while (in.next(&f)) {
      edge_worker.push_back(worker.at(f[0]));
      edge_opening.push_back(opening.at(f[1]));
      edge_score.push_back(micro(f[2]));
    }
  }
  std::vector<i64> best(n, -1);
  for (size_t e = 0; e < edge_worker.size(); ++e)
    best[edge_worker[e]] = std::max(best[edge_worker[e]], edge_score[e]);
  i64 big = 1;
  for (int w = 0; w < n; ++w) big += std::max<i64>(best[w], 0);

  // Household nodes: zero-employment households with members who have
  // candidates, numbered in order of their first such member.
  std::vector<int> node_of_household(household.size(), -1), members_count;
  std::vector<int> member_node(n, -1);
  for (int w = 0; w < n; ++w) {
    int h = worker_household[w];
    if (!zero[h] || best[w] < 0) continue;
    if (node_of_household[h] < 0) {
      node_of_household[h] = (int)members_count.size();
      members_count.push_back(0);
    }
    member_node[w] = node_of_household[h];
    members_count[member_node[w]]++;
  }
  const int hz = (int)members_count.size();
  const int sink = n + m + hz, nodes = sink + 1;
  std::vector<int> tail, head;
  std::vector<i64> cap, cost, supply(nodes, 0);
  auto arc = [&](int u, int v, i64 c, i64 k) {
    tail.push_back(u); head.push_back(v); cap.push_back(c); cost.push_back(k);
  };
  for (size_t e = 0; e < edge_worker.size(); ++e)
    arc(edge_worker[e], n + edge_opening[e], 1, -edge_score[e]);
  for (int w = 0; w < n; ++w) {
    if (best[w] < 0) continue;
    if (member_node[w] < 0) {
      arc(w, sink, 1, 0);
      supply[w] = 1;
    } else {
      arc(n + m + member_node[w], w, 1, 0);
    }
  }
  i64 total = 0;
  for (int i = 0; i < hz; ++i) {
    int h = n + m + i;
    i64 k = members_count[i];
    if (k > 1) arc(h, sink, k - 1, 0);
    arc(h, sink, 1, big);
    supply[h] = k;
  }
  for (int o = 0; o < m; ++o)
    if (slots[o] > 0) arc(n + o, sink, slots[o], 0);
  for (int u = 0; u < nodes; ++u) total += supply[u];
  supply[sink] = -total;
  const i64 arcs = (i64)tail.size();

  // jobbridge's own assignment, valued the same way.
  i64 jb_score = 0, jb_covered = 0;
  {
    std::unordered_map<i64, i64> score_of;  // worker * m + opening -> score
    score_of.reserve(edge_worker.size());
    for (size_t e = 0; e < edge_worker.size(); ++e)
      score_of[(i64)edge_worker[e] * m + edge_opening[e]] = edge_score[e];
    std::vector<char> covered(household.size(), 0);
    Lines in(dir + "/assignment.csv");
    while (in.next(&f)) {
      int w = worker.at(f[0]), o = opening.at(f[1]);
      jb_score += score_of.at((i64)w * m + o);
      covered[worker_household[w]] |= zero[worker_household[w]];
    }
    for (char c : covered) jb_covered += c;
  }
  double t_read = now() - t0;
  std::printf(
      "{\"solver\":\"read\",\"seconds\":%.3f,\"workers\":%d,\"openings\":%d,"
      "\"edges\":%zu,\"nodes\":%d,\"arcs\":%lld,\"households\":%d,\"big\":%lld}\n",
      t_read, n, m, edge_worker.size(), nodes, arcs, hz, big);
  std::printf(
      "{\"solver\":\"jobbridge-export\",\"households_covered\":%lld,"
      "\"total_score_micro\":%lld}\n",
      jb_covered, jb_score);
  std::fflush(stdout);

  // Flat graph: int64 nodes, arcs, households, big; int64 supply[nodes];
  // int32 tail[arcs], head[arcs]; int64 cap[arcs], cost[arcs].
  {
    FILE *g = std::fopen(argv[2], "wb");
    i64 header[4] = {nodes, arcs, hz, big};
    std::fwrite(header, sizeof(i64), 4, g);
    std::fwrite(supply.data(), sizeof(i64), nodes, g);
    std::fwrite(tail.data(), sizeof(int), arcs, g);
    std::fwrite(head.data(), sizeof(int), arcs, g);
    std::fwrite(cap.data(), sizeof(i64), arcs, g);
    std::fwrite(cost.data(), sizeof(i64), arcs, g);
    std::fclose(g);
  }

#ifdef HAVE_LEMON
  // StaticDigraph wants arcs sorted by tail.
  std::vector<int> order(arcs);
  for (i64 a = 0; a < arcs; ++a) order[a] = (int)a;
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return tail[a] < tail[b]; });
  std::vector<std::pair<int, int>> pairs(arcs);
  for (i64 i = 0; i < arcs; ++i) pairs[i] = {tail[order[i]], head[order[i]]};
  lemon::StaticDigraph g;
  g.build(nodes, pairs.begin(), pairs.end());
  lemon::StaticDigraph::ArcMap<i64> lcap(g), lcost(g);
  lemon::StaticDigraph::NodeMap<i64> lsup(g);
  for (i64 i = 0; i < arcs; ++i) {
    lcap[g.arc(i)] = cap[order[i]];
    lcost[g.arc(i)] = cost[order[i]];
  }
  for (int u = 0; u < nodes; ++u) lsup[g.node(u)] = supply[u];
  for (int r = 0; r < repeat; ++r) {
    lemon::NetworkSimplex<lemon::StaticDigraph, i64, i64> ns(g);
    ns.upperMap(lcap).costMap(lcost).supplyMap(lsup);
    double t = now();
    std::clock_t c0 = std::clock();
    auto status = ns.run(lemon::NetworkSimplex<lemon::StaticDigraph, i64, i64>::BLOCK_SEARCH);
    double dt = now() - t;
    double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
    i64 c = status == ns.OPTIMAL ? ns.totalCost() : 0;
    i64 uncovered = (c + big - 1) / big;  // ceil; c = big * U - S, 0 <= S < big
    std::printf(
        "{\"solver\":\"lemon-network-simplex\",\"seconds\":%.3f,\"cpu_seconds\":%.3f,"
        "\"optimal\":%s,"
        "\"households_covered\":%lld,\"total_score_micro\":%lld}\n",
        dt, cpu, status == ns.OPTIMAL ? "true" : "false", (i64)hz - uncovered,
        big * uncovered - c);
    std::fflush(stdout);
  }
#endif
  return 0;
}
