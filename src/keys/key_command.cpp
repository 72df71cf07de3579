#include "claudegate/keys/key_command.hpp"

#include <charconv>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "claudegate/keys/key_json.hpp"
#include "claudegate/keys/key_text.hpp"
#include "claudegate/net.hpp"
#include "claudegate/store/make_store.hpp"

namespace claudegate::keys {
namespace {

using nlohmann::json;

constexpr int kDone = 0;
constexpr int kFailed = 1;
constexpr int kBadArguments = 2;

// Flags that take a value, and the LiteLLM field each sets.
const std::map<std::string, std::string, std::less<>>& ValueFlags() {
  static const std::map<std::string, std::string, std::less<>> flags = {
      {"--alias", "key_alias"},
      {"--models", "models"},
      {"--rpm", "rpm_limit"},
      {"--tpm", "tpm_limit"},
      {"--parallel", "max_parallel_requests"},
      {"--budget", "max_budget"},
      {"--budget-duration", "budget_duration"},
      {"--duration", "duration"},
      {"--metadata", "metadata"},
  };
  return flags;
}

// The value of a flag as LiteLLM's JSON field: numbers for limits, a list for models, "none"
// to clear a limit.
std::optional<json> FieldValue(const std::string& field, const std::string& text) {
  if (text == "none") {
    return json(nullptr);
  }
  if (field == "models") {
    json models = json::array();
    std::size_t start = 0;
    while (start <= text.size()) {
      const auto comma = text.find(',', start);
      const std::string model = text.substr(start, comma - start);
      if (!model.empty()) {
        models.push_back(model);
      }
      if (comma == std::string::npos) {
        break;
      }
      start = comma + 1;
    }
    return models;
  }
  if (field == "rpm_limit" || field == "tpm_limit" || field == "max_parallel_requests") {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
      return std::nullopt;
    }
    return json(value);
  }
  if (field == "max_budget") {
    try {
      std::size_t used = 0;
      const double value = std::stod(text, &used);
      return used == text.size() ? std::optional<json>(json(value)) : std::nullopt;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (field == "metadata") {
    auto parsed = json::parse(text, nullptr, false);
    return parsed.is_discarded() ? std::nullopt : std::optional<json>(parsed);
  }
  return json(text);
}

struct Parsed {
  std::string verb;
  std::vector<std::string> names;  // keys, tokens or aliases
  json fields = json::object();
};

std::optional<Parsed> Parse(const std::vector<std::string>& args, std::ostream& err) {
  if (args.empty()) {
    err << KeyCommandUsage();
    return std::nullopt;
  }
  Parsed parsed;
  parsed.verb = args[0];
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--blocked" || arg == "--block") {
      parsed.fields["blocked"] = true;
    } else if (arg == "--unblock") {
      parsed.fields["blocked"] = false;
    } else if (const auto flag = ValueFlags().find(arg); flag != ValueFlags().end()) {
      if (i + 1 >= args.size()) {
        err << "claudegate key: " << arg << " needs a value\n";
        return std::nullopt;
      }
      auto value = FieldValue(flag->second, args[++i]);
      if (!value) {
        err << "claudegate key: " << arg << " has an invalid value '" << args[i] << "'\n";
        return std::nullopt;
      }
      parsed.fields[flag->second] = *value;
    } else if (arg.starts_with("--")) {
      err << "claudegate key: unknown option '" << arg << "'\n" << KeyCommandUsage();
      return std::nullopt;
    } else {
      parsed.names.push_back(arg);
    }
  }
  return parsed;
}

// The stored key `name` designates: the key itself, its token or its alias.
const store::KeyRecord* FindKey(const std::vector<store::KeyRecord>& keys,
                                const std::string& name) {
  const std::string token =
      name.starts_with("sk-") ? TokenOf(name) : (LooksLikeToken(name) ? name : std::string());
  for (const auto& key : keys) {
    if ((!token.empty() && key.token == token) || key.alias == name) {
      return &key;
    }
  }
  return nullptr;
}

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs one awaitable to completion on a private io_context (the store's calls are coroutines).
template <typename T>
T Await(Awaitable<T> awaitable) {
  net::io_context io;
  std::optional<T> result;
  net::co_spawn(io, std::move(awaitable), [&](const std::exception_ptr& error, T value) {
    if (error) {
      std::rethrow_exception(error);
    }
    result = std::move(value);
  });
  io.run();
  return std::move(*result);
}

int Write(store::KeyStore& store, store::KeyRecord record, bool create, std::ostream& out,
          std::ostream& err, const std::string& key) {
  switch (Await(store.Put(record, create))) {
    case store::KeyWrite::kDone:
      break;
    case store::KeyWrite::kAliasTaken:
      err << "claudegate key: key_alias '" << record.alias.value_or("")
          << "' is already used by another key\n";
      return kBadArguments;
    case store::KeyWrite::kNotFound:
      err << "claudegate key: the key was deleted meanwhile\n";
      return kFailed;
    case store::KeyWrite::kUnavailable:
      err << "claudegate key: the store failed (see the messages above)\n";
      return kFailed;
  }
  json shown = KeyInfoJson(record);
  if (!key.empty()) {
    shown["key"] = key;  // shown once
  }
  out << shown.dump(2) << "\n";
  return kDone;
}

}  // namespace

std::string KeyCommandUsage() {
  return R"USAGE(Usage: claudegate key VERB [NAME...] [OPTIONS] [--config FILE]

Manage virtual keys in the store (docs/keys.md); a running claudegate sees changes within a second.
NAME is a key (sk-...), its token (64 hex digits) or its alias.

  generate [OPTIONS]         create a key; prints it once, with its settings
  update NAME [OPTIONS]      change a key's settings
  delete NAME...             delete keys
  info NAME                  print a key's settings and spend
  list                       print every key (never the keys themselves)

Options (LiteLLM's fields; "none" clears a limit):
  --alias NAME               key_alias (letters, digits, . _ : @ -)
  --models a,b               models it may use (default: every model)
  --rpm N | --tpm N          requests / tokens per minute
  --parallel N               requests in flight at once
  --budget USD               max_budget at API prices
  --budget-duration D        reset the spend every D (30s, 15m, 2h, 30d, 1w, 1mo)
  --duration D               expires D from now
  --metadata JSON            a JSON object kept with the key
  --blocked | --unblock      refuse / accept the key
)USAGE";
}

int RunKeyCommand(const std::vector<std::string>& args, const config::Config& config,
                  std::ostream& out, std::ostream& err) {
  auto parsed = Parse(args, err);
  if (!parsed) {
    return kBadArguments;
  }
  if (parsed->verb == "help" || parsed->verb == "--help") {
    out << KeyCommandUsage();
    return kDone;
  }
  auto opened = store::MakeKeyStore(config.store);
  if (!opened.store) {
    err << "claudegate key: the store is turned off or cannot be opened (data directory '"
        << config.store.data_dir << "')\n";
    return kFailed;
  }
  store::KeyStore& store = *opened.store;
  const std::vector<store::KeyRecord>& keys = opened.keys;
  const std::int64_t now = UnixNow();
  const std::string& verb = parsed->verb;

  if (verb == "generate") {
    if (!parsed->names.empty()) {
      err << "claudegate key generate: takes options only\n";
      return kBadArguments;
    }
    const std::string key = GenerateKey();
    store::KeyRecord record;
    record.token = TokenOf(key);
    record.key_name = KeyName(key);
    record.created_at = now;
    if (auto error = ApplyKeyFields(parsed->fields, record, now)) {
      err << "claudegate key generate: " << error->message << "\n";
      return kBadArguments;
    }
    return Write(store, std::move(record), true, out, err, key);
  }
  if (verb == "list") {
    json listed = json::array();
    for (const auto& key : keys) {
      listed.push_back(KeyInfoJson(key));
    }
    out << listed.dump(2) << "\n";
    return kDone;
  }
  if (parsed->names.empty()) {
    err << "claudegate key " << verb << ": name a key (sk-..., its token or its alias)\n";
    return kBadArguments;
  }
  if (verb == "delete") {
    std::vector<std::string> tokens;
    for (const auto& name : parsed->names) {
      const auto* key = FindKey(keys, name);
      if (key == nullptr) {
        err << "claudegate key delete: no key '" << name << "'\n";
        return kFailed;
      }
      tokens.push_back(key->token);
    }
    const auto deleted = Await(store.Delete(tokens));
    if (deleted.status != store::LookupStatus::kFound) {
      err << "claudegate key delete: the store failed\n";
      return kFailed;
    }
    out << json{{"deleted_keys", parsed->names}}.dump(2) << "\n";
    return kDone;
  }
  const auto* key = FindKey(keys, parsed->names.front());
  if (key == nullptr || parsed->names.size() != 1) {
    err << "claudegate key " << verb << ": no key '" << parsed->names.front() << "'\n";
    return kFailed;
  }
  if (verb == "info") {
    out << KeyInfoJson(*key).dump(2) << "\n";
    return kDone;
  }
  if (verb == "update") {
    store::KeyRecord record = *key;
    if (auto error = ApplyKeyFields(parsed->fields, record, now)) {
      err << "claudegate key update: " << error->message << "\n";
      return kBadArguments;
    }
    return Write(store, std::move(record), false, out, err, {});
  }
  err << "claudegate key: unknown verb '" << verb << "'\n" << KeyCommandUsage();
  return kBadArguments;
}

}  // namespace claudegate::keys
