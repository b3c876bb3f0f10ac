#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/store.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sy::store {
namespace {

// A fresh directory per test, removed afterwards.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sy_store_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "config.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<ConfigStore> open() {
    auto s = open_sqlite(path_);
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }

  // Runs one statement on the file with a raw connection (what another tool might do).
  void raw_exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(StoreTest, CreateGetRemove) {
  auto s = open();
  ASSERT_TRUE(s);
  auto missing = s->get("a");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);

  auto rec = s->create("a", R"({"x":1})");
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->name, "a");
  EXPECT_EQ(rec->spec, R"({"x":1})");
  EXPECT_EQ(rec->version, 1);
  EXPECT_GT(rec->create_time_ms, 1'600'000'000'000);
  EXPECT_EQ(rec->create_time_ms, rec->update_time_ms);
  EXPECT_EQ(rec->seed_digest, "");

  auto got = s->get("a");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->spec, R"({"x":1})");
  EXPECT_EQ((*got)->version, 1);
  EXPECT_EQ((*got)->create_time_ms, rec->create_time_ms);

  auto removed = s->remove("a", 0);
  ASSERT_TRUE(removed);
  EXPECT_TRUE(*removed);
  removed = s->remove("a", 0);
  ASSERT_TRUE(removed);
  EXPECT_FALSE(*removed);
  EXPECT_FALSE(*s->get("a"));
}

TEST_F(StoreTest, DuplicateCreateConflicts) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->create("a", "{}"));
  auto again = s->create("a", R"({"y":2})");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_NE(again.error().message.find("'a'"), std::string::npos);
  EXPECT_EQ((*s->get("a"))->spec, "{}");  // untouched
}

TEST_F(StoreTest, UpdateChecksVersion) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->create("a", "v1"));

  auto u = s->update("a", "v2", 1);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->version, 2);
  EXPECT_EQ(u->spec, "v2");
  EXPECT_GE(u->update_time_ms, u->create_time_ms);

  auto stale = s->update("a", "v3", 1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::kPreconditionFailed);
  EXPECT_EQ(http_status(stale.error().code), 412);
  EXPECT_EQ((*s->get("a"))->spec, "v2");

  auto any = s->update("a", "v3", 0);  // unconditional
  ASSERT_TRUE(any);
  EXPECT_EQ(any->version, 3);

  auto missing = s->update("nope", "x", 0);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto bad_remove = s->remove("a", 2);
  ASSERT_FALSE(bad_remove);
  EXPECT_EQ(bad_remove.error().code, ErrorCode::kPreconditionFailed);
  auto ok_remove = s->remove("a", 3);
  ASSERT_TRUE(ok_remove);
  EXPECT_TRUE(*ok_remove);
}

TEST_F(StoreTest, ListPaginates) {
  auto s = open();
  ASSERT_TRUE(s);
  for (const char* n : {"d", "b", "e", "a", "c"}) {
    ASSERT_TRUE(s->create(n, n));
  }

  auto p1 = s->list(2, "");
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->records.size(), 2u);
  EXPECT_EQ(p1->records[0].name, "a");
  EXPECT_EQ(p1->records[1].name, "b");
  EXPECT_EQ(p1->next_after, "b");

  auto p2 = s->list(2, p1->next_after);
  ASSERT_TRUE(p2);
  ASSERT_EQ(p2->records.size(), 2u);
  EXPECT_EQ(p2->records[0].name, "c");
  EXPECT_EQ(p2->next_after, "d");

  auto p3 = s->list(2, p2->next_after);
  ASSERT_TRUE(p3);
  ASSERT_EQ(p3->records.size(), 1u);
  EXPECT_EQ(p3->records[0].name, "e");
  EXPECT_EQ(p3->next_after, "");

  // Exactly a full last page: no cursor pointing at an empty page.
  auto exact = s->list(5, "");
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->records.size(), 5u);
  EXPECT_EQ(exact->next_after, "");

  auto huge = s->list(SIZE_MAX, "b");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->records.size(), 3u);

  auto zero = s->list(0, "");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, ErrorCode::kInvalidRequest);

  auto all = s->all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ(all->front().name, "a");
  EXPECT_EQ(all->back().name, "e");
}

TEST_F(StoreTest, SeedSemantics) {
  auto s = open();
  ASSERT_TRUE(s);
  // Absent: created, marked with the digest.
  auto first = s->seed("r", "file-v1", "d1");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->second);
  EXPECT_EQ(first->first.version, 1);
  EXPECT_EQ(first->first.seed_digest, "d1");

  // Same digest: nothing to do.
  auto same = s->seed("r", "file-v1", "d1");
  ASSERT_TRUE(same);
  EXPECT_FALSE(same->second);
  EXPECT_EQ(same->first.version, 1);

  // Edited through the API, then the unchanged file is seeded again: the edit survives.
  ASSERT_TRUE(s->update("r", "api-edit", 1));
  auto after_edit = s->seed("r", "file-v1", "d1");
  ASSERT_TRUE(after_edit);
  EXPECT_FALSE(after_edit->second);
  EXPECT_EQ(after_edit->first.spec, "api-edit");
  EXPECT_EQ(after_edit->first.version, 2);
  EXPECT_EQ((*s->get("r"))->spec, "api-edit");

  // The file changed: its spec replaces the stored one.
  auto changed = s->seed("r", "file-v2", "d2");
  ASSERT_TRUE(changed);
  EXPECT_TRUE(changed->second);
  EXPECT_EQ(changed->first.spec, "file-v2");
  EXPECT_EQ(changed->first.version, 3);
  EXPECT_EQ(changed->first.seed_digest, "d2");
  auto stored = *s->get("r");
  EXPECT_EQ(stored->spec, "file-v2");
  EXPECT_EQ(stored->version, 3);
  EXPECT_EQ(stored->seed_digest, "d2");
  EXPECT_EQ(stored->create_time_ms, first->first.create_time_ms);

  // A router made through the API has no digest, so the file's version takes over.
  ASSERT_TRUE(s->create("api", "mine"));
  auto takeover = s->seed("api", "file", "d9");
  ASSERT_TRUE(takeover);
  EXPECT_TRUE(takeover->second);
  EXPECT_EQ(takeover->first.version, 2);
}

TEST_F(StoreTest, Settings) {
  auto s = open();
  ASSERT_TRUE(s);
  auto none = s->setting("k");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  EXPECT_TRUE(*s->put_setting("k", "v1"));
  EXPECT_FALSE(*s->put_setting("k", "v1"));
  EXPECT_TRUE(*s->put_setting("k", "v2"));
  EXPECT_TRUE(*s->put_setting("empty", ""));
  EXPECT_EQ(**s->setting("k"), "v2");
  EXPECT_EQ(**s->setting("empty"), "");
}

TEST_F(StoreTest, PersistsAcrossReopen) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->create("a", "spec-a"));
    ASSERT_TRUE(s->update("a", "spec-a2", 1));
    ASSERT_TRUE(s->seed("b", "spec-b", "db"));
    ASSERT_TRUE(s->put_setting("k", "v"));
  }
  auto s = open();
  ASSERT_TRUE(s);
  auto a = *s->get("a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->spec, "spec-a2");
  EXPECT_EQ(a->version, 2);
  auto b = *s->get("b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->seed_digest, "db");
  EXPECT_EQ(**s->setting("k"), "v");
  // Migrations ran once only.
  auto seeded_again = s->seed("b", "spec-b", "db");
  ASSERT_TRUE(seeded_again);
  EXPECT_FALSE(seeded_again->second);
}

TEST_F(StoreTest, UsesWal) {
  auto s = open();
  ASSERT_TRUE(s);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(StoreTest, InMemoryWorks) {
  auto s = open_sqlite(":memory:");
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE((*s)->create("a", "{}"));
  EXPECT_EQ((*(*s)->get("a"))->version, 1);
}

TEST_F(StoreTest, RefusesNewerSchema) {
  { ASSERT_TRUE(open()); }
  raw_exec("INSERT INTO schema_migrations(version, applied_at) VALUES(999, 0)");
  auto s = open_sqlite(path_);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find(path_), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("999"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("newer"), std::string::npos) << s.error().message;
}

TEST_F(StoreTest, OpenErrorNamesFile) {
  std::string bad = (dir_ / "no" / "such" / "dir" / "config.db").string();
  auto s = open_sqlite(bad);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find(bad), std::string::npos) << s.error().message;
}

TEST_F(StoreTest, NotADatabaseIsAnError) {
  {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not a database, just some text that is long enough to have a header\n", f);
    std::fclose(f);
  }
  auto s = open_sqlite(path_);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find(path_), std::string::npos) << s.error().message;
}

// Degraded mode: another process holds the write lock past the busy timeout (5 s; this test
// waits it out). Writes fail as kUnavailable naming the file; reads still work under WAL.
TEST_F(StoreTest, LockedDatabaseIsUnavailable) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->create("a", "{}"));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto blocked = s->update("a", "x", 0);
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(blocked.error().message.find(path_), std::string::npos) << blocked.error().message;
  auto read = s->get("a");
  ASSERT_TRUE(read && *read);
  EXPECT_EQ((*read)->spec, "{}");
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_TRUE(s->update("a", "x", 0));
}

TEST_F(StoreTest, ConcurrentWriters) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->create("shared", "0"));
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&s, t] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_TRUE(s->create(fmt::format("t{}-{}", t, i), "{}"));
        EXPECT_TRUE(s->update("shared", fmt::format("{}-{}", t, i), 0));
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(s->all()->size(), static_cast<size_t>(kThreads * kEach + 1));
  EXPECT_EQ((*s->get("shared"))->version, 1 + kThreads * kEach);
}

// A writer killed with SIGKILL mid-loop leaves the last committed row: spec and version agree.
TEST_F(StoreTest, SurvivesKillDuringWrites) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->create("r", R"({"i":0})"));
  }  // closed before fork: a connection must not cross fork()
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(ready[0]);
    auto s = open_sqlite(path_);
    if (!s) {
      _exit(2);
    }
    // A large spec makes each write span several pages, widening the window for a torn write.
    std::string pad(20000, 'x');
    for (int64_t i = 1;; ++i) {
      auto r = (*s)->update("r", fmt::format(R"({{"i":{},"pad":"{}"}})", i, pad), i);
      if (!r) {
        _exit(3);
      }
      if (i == 20) {
        (void)!write(ready[1], "x", 1);
      }
    }
  }
  close(ready[1]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);  // the child is mid-loop
  close(ready[0]);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  auto s = open();
  ASSERT_TRUE(s);
  auto rec = s->get("r");
  ASSERT_TRUE(rec && *rec);
  const std::string& spec = (*rec)->spec;
  long long i = -1;
  ASSERT_EQ(std::sscanf(spec.c_str(), R"({"i":%lld)", &i), 1) << spec.substr(0, 40);
  EXPECT_EQ((*rec)->version, i + 1);  // created at version 1 with i = 0
  EXPECT_GE(i, 20);
  EXPECT_EQ(spec, fmt::format(R"({{"i":{},"pad":"{}"}})", i, std::string(20000, 'x')));
  // And the store still takes writes.
  auto next = s->update("r", "after", (*rec)->version);
  ASSERT_TRUE(next) << next.error().message;
}

}  // namespace
}  // namespace sy::store
