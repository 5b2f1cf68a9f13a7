package dynapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/storetest"
	"github.com/dynapi/dynapi/examples"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// crashEnv tells the test binary it is the child of TestUseCaseCrash, and
// which data directory to work on.
const crashEnv = "DYNAPI_USECASE_CRASH_DIR"

// crashRuns is how many times TestUseCaseCrash kills the server.
const crashRuns = 50

// crashConfig is the configuration of the crashing server and of each
// restart: the example is preloaded on the first start.
func crashConfig(dir string) dynapi.Config {
	cfg := enginetest.Config(dir)
	cfg.PreloadExample = true
	return cfg
}

// TestUseCaseCrashChild is the server TestUseCaseCrash kills: it starts
// (preloading the example on a fresh directory) and then creates,
// replaces, grants the roles of and deletes documents, creates and
// deletes entity definitions and method routings, until killed,
// printing "ack <action> <id>" once each change is acknowledged. It prints
// "ack start" before anything, so that a kill may land in the start
// itself.
func TestUseCaseCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("run by TestUseCaseCrash")
	}
	fmt.Println("ack start")
	inst := enginetest.New(t, enginetest.WithConfig(crashConfig(dir)))
	fmt.Println("ack open")
	user := "crash-user"
	userID := ""
	if r := inst.Admin().Get(t, "/admin/v1/users"); r.Status == http.StatusOK {
		for _, u := range r.JSON(t)["users"].([]any) {
			if u := u.(map[string]any); u["username"] == user {
				userID = u["user_id"].(string)
			}
		}
	}
	if userID == "" {
		userID = inst.CreateUser(t, user, "Passw0rd-of-crash-user").ID
	}
	var live []string
	for _, ep := range inst.Admin().Get(t, "/admin/v1/dynamic-endpoints").JSON(t)["dynamic_endpoints"].([]any) {
		if ep := ep.(map[string]any); ep["mount"] != "/example/v1" {
			live = append(live, ep["dynamic_endpoint_id"].(string))
		}
	}
	var entities []string
	for _, e := range inst.Admin().Get(t, "/admin/v1/dynamic-entities").JSON(t)["dynamic_entities"].([]any) {
		entities = append(entities, e.(map[string]any)["dynamic_entity_id"].(string))
	}
	for k := 0; ; k++ {
		mount := fmt.Sprintf("/crash%d-%d", time.Now().UnixNano(), k)
		switch pick := rand.IntN(7); {
		case pick == 6:
			id := inst.CreateRouting(t, map[string]any{"method_name": "getBanks", "connector_name": "mapped",
				"bank_id_pattern": fmt.Sprintf("crash-%d", time.Now().UnixNano()), "is_bank_id_exact_match": true})
			if k%2 == 0 {
				if r := inst.Admin().Delete(t, "/admin/v1/method-routings/"+id); r.Status != http.StatusNoContent {
					t.Fatalf("delete routing: %d %s", r.Status, r.Body)
				}
			}
			fmt.Println("ack routing", id)
		case pick == 4 || pick == 5 && len(entities) == 0:
			name := fmt.Sprintf("Crash%d", time.Now().UnixNano())
			id := inst.CreateEntity(t, "/admin/v1/dynamic-entities",
				`{"`+name+`": {"required": ["name"], "properties": {"name": {"type": "string", "example": "n"}}}}`)
			entities = append(entities, id)
			fmt.Println("ack entity", id)
		case pick == 5:
			i := rand.IntN(len(entities))
			id := entities[i]
			if r := inst.Admin().Delete(t, "/admin/v1/dynamic-entities/"+id); r.Status != http.StatusNoContent {
				t.Fatalf("delete entity: %d %s", r.Status, r.Body)
			}
			entities = append(entities[:i], entities[i+1:]...)
			fmt.Println("ack unentity", id)
		case pick == 0 || len(live) == 0:
			r := inst.Admin().Post(t, "/admin/v1/dynamic-endpoints?mount="+mount, enginetest.OperationsDocument("/", fmt.Sprintf("a%d", k), fmt.Sprintf("b%d", k)))
			if r.Status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
			id := r.JSON(t)["dynamic_endpoint_id"].(string)
			live = append(live, id)
			fmt.Println("ack create", id)
		case pick == 1:
			id := live[rand.IntN(len(live))]
			r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/admin/v1/dynamic-endpoints/" + id + "?mount=" + mount,
				Body: enginetest.OperationsDocument("/", fmt.Sprintf("a%d", k), fmt.Sprintf("c%d", k))})
			if r.Status != http.StatusOK {
				t.Fatalf("replace: %d %s", r.Status, r.Body)
			}
			fmt.Println("ack replace", id)
		case pick == 2:
			id := live[rand.IntN(len(live))]
			ep := inst.Admin().Get(t, "/admin/v1/dynamic-endpoints/"+id).JSON(t)
			for _, role := range enginetest.OperationRoles(t, ep) {
				r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/users/" + userID + "/entitlements", Header: enginetest.JSONHeader(),
					Body: enginetest.MustJSON(t, map[string]string{"bank_id": "", "role_name": role})})
				if r.Status != http.StatusCreated && r.Status != http.StatusConflict {
					t.Fatalf("grant: %d %s", r.Status, r.Body)
				}
				break
			}
			fmt.Println("ack grant", id)
		default:
			i := rand.IntN(len(live))
			id := live[i]
			if r := inst.Admin().Delete(t, "/admin/v1/dynamic-endpoints/"+id); r.Status != http.StatusNoContent {
				t.Fatalf("delete: %d %s", r.Status, r.Body)
			}
			live = append(live[:i], live[i+1:]...)
			fmt.Println("ack delete", id)
		}
	}
}

// TestUseCaseCrash kills a server with SIGKILL at random points of the
// document use cases and of its first start (the example's preload), and
// after each kill starts it again on the same data directory and checks
// the store is consistent: it starts at all, the example is served exactly
// once and the demo bank's data is there once, no role or entitlement is
// orphaned, every document, entity and routing and every deletion is
// audited, and nothing acknowledged is lost.
// Every crashFresh-th run starts on a fresh directory and is killed
// anywhere in its first start, preload included; the others are killed
// among the changes.
func TestUseCaseCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const crashFresh = 5
	var dir string
	var created, deleted map[string]bool
	inconsistent, inStart := 0, 0
	for run := range crashRuns {
		crash := storetest.Crash{Child: "TestUseCaseCrashChild", After: 2 + rand.IntN(6), Jitter: 400 * time.Millisecond,
			Limit: 30 * time.Second, Timeout: time.Minute}
		if run%crashFresh == 0 {
			dir, created, deleted = t.TempDir(), map[string]bool{}, map[string]bool{}
			crash.After, crash.Jitter = 1, 600*time.Millisecond
		}
		crash.Env = crashEnv + "=" + dir
		last := ""
		storetest.KillChild(t, crash, func(line string) bool {
			rest, ok := strings.CutPrefix(line, "ack ")
			if ok {
				last = rest
			}
			if action, id, ok := strings.Cut(rest, " "); ok {
				switch action {
				case "create":
					created[id] = true
				case "delete", "unentity":
					deleted[id] = true
				case "entity":
					created["entity:"+id] = true
				}
			}
			return ok
		})
		if last == "start" {
			inStart++
		}
		faults := checkConsistent(t, dir, created, deleted)
		for _, f := range faults {
			t.Errorf("run %d: %s", run, f)
		}
		if len(faults) > 0 {
			inconsistent++
		}
	}
	t.Logf("%d kills (%d during a start), %d inconsistent restarts", crashRuns, inStart, inconsistent)
}

// demoBankFaults lists what is missing or doubled of the demo bank the
// preload opens with the example: its two accounts, at their balances
// after the one payment, with two transactions each (the opening balance
// and the payment).
func demoBankFaults(t *testing.T, inst *enginetest.Engine) []string {
	t.Helper()
	var faults []string
	for _, a := range []struct{ id, balance string }{{"current-1", "2350.00"}, {"savings-1", "10150.00"}} {
		path := "/banks/" + dynapi.DemoBankID + "/accounts/" + a.id
		r := inst.Admin().Get(t, path)
		if r.Status != http.StatusOK {
			faults = append(faults, fmt.Sprintf("demo account %s: %d", a.id, r.Status))
			continue
		}
		if got := r.JSON(t)["balance"].(map[string]any)["amount"]; got != a.balance {
			faults = append(faults, fmt.Sprintf("demo account %s has a balance of %v, want %s", a.id, got, a.balance))
		}
		if txs := inst.Admin().Get(t, path+"/transactions").JSON(t)["transactions"].([]any); len(txs) != 2 {
			faults = append(faults, fmt.Sprintf("demo account %s has %d transactions, want 2", a.id, len(txs)))
		}
	}
	return faults
}

// checkConsistent starts an instance on dir and lists what is wrong with
// its store.
func checkConsistent(t *testing.T, dir string, created, deleted map[string]bool) []string {
	t.Helper()
	inst, err := enginetest.Start(t, enginetest.WithConfig(crashConfig(dir)))
	if err != nil {
		return []string{fmt.Sprintf("does not start: %v", err)}
	}
	defer inst.Close(t)
	var faults []string
	fault := func(format string, args ...any) { faults = append(faults, fmt.Sprintf(format, args...)) }

	stored := map[string]bool{}
	examplesServed := 0
	for _, ep := range inst.Endpoints.All() {
		stored[ep.ID] = true
		source, err := inst.Endpoints.Source(t.Context(), ep)
		if err != nil {
			fault("document %s: its source cannot be read: %v", ep.ID, err)
		}
		if bytes.Equal(source, examples.BankAccounts) {
			examplesServed++
		}
		for _, r := range ep.Roles() {
			if role, ok := inst.Access.Authz.Role(r.Name); !ok || !role.Dynamic {
				fault("document %s: its role %s does not exist", ep.ID, r.Name)
			}
		}
	}
	if examplesServed != 1 {
		fault("the example is served %d times", examplesServed)
	}

	audited := map[string]map[string]int{} // action -> target -> entries
	owners := map[string][]string{}        // role -> owners
	var ents []struct{ id, role string }
	err = inst.Store.View(t.Context(), func(tx engine.Tx) error {
		err := tx.Scan("access_audit", "", func(_ string, v []byte) error {
			var e struct{ Action, Target string }
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if audited[e.Action] == nil {
				audited[e.Action] = map[string]int{}
			}
			audited[e.Action][e.Target]++
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Scan("access_roles_by_owner", "", func(k string, _ []byte) error {
			owner, role, _ := strings.Cut(k, "\x00")
			owners[role] = append(owners[role], owner)
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Scan("access_entitlements", "", func(k string, v []byte) error {
			var e struct {
				Role string `json:"role_name"`
			}
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			ents = append(ents, struct{ id, role string }{k, e.Role})
			return nil
		})
	})
	if err != nil {
		return append(faults, fmt.Sprintf("read the store: %v", err))
	}
	if n := audited["bank.create"][dynapi.DemoBankID]; n != 1 {
		fault("the demo bank has %d create entries in the audit log", n)
	}
	for _, f := range demoBankFaults(t, inst) {
		fault("%s", f)
	}
	for _, e := range inst.Admin().Get(t, "/admin/v1/dynamic-entities").JSON(t)["dynamic_entities"].([]any) {
		e := e.(map[string]any)
		id := e["dynamic_entity_id"].(string)
		stored["entity:"+id] = true
		for _, name := range e["roles"].([]any) {
			if role, ok := inst.Access.Authz.Role(name.(string)); !ok || !role.Dynamic {
				fault("entity %s: its role %s does not exist", id, name)
			}
		}
		if audited["dynamic_entity.create"][id] != 1 {
			fault("entity %s has %d create entries in the audit log", id, audited["dynamic_entity.create"][id])
		}
	}
	for _, r := range inst.Admin().Get(t, "/admin/v1/method-routings").JSON(t)["method_routings"].([]any) {
		if id := r.(map[string]any)["method_routing_id"].(string); audited["method_routing.create"][id] != 1 {
			fault("method routing %s has %d create entries in the audit log", id, audited["method_routing.create"][id])
		}
	}
	for id := range audited["method_routing.delete"] {
		if audited["method_routing.create"][id] != 1 {
			fault("method routing %s is audited deleted but not created", id)
		}
	}
	for id := range audited["dynamic_entity.delete"] {
		if stored["entity:"+id] {
			fault("entity %s is audited deleted but stored", id)
		}
	}
	for role, os := range owners {
		for _, owner := range os {
			if !stored[owner] {
				fault("role %s is owned by %s, which is no document or entity", role, owner)
			}
		}
	}
	for _, r := range inst.Access.Authz.Roles() {
		if r.Dynamic && len(owners[r.Name]) == 0 {
			fault("dynamic role %s has no owner", r.Name)
		}
	}
	for _, e := range ents {
		if _, ok := inst.Access.Authz.Role(e.role); !ok {
			fault("entitlement %s is to role %s, which does not exist", e.id, e.role)
		}
	}
	for id := range stored {
		if !strings.HasPrefix(id, "entity:") && audited["dynamic_endpoint.create"][id] != 1 {
			fault("document %s has %d create entries in the audit log", id, audited["dynamic_endpoint.create"][id])
		}
	}
	for id := range audited["dynamic_endpoint.delete"] {
		if stored[id] {
			fault("document %s is audited deleted but stored", id)
		}
	}
	for id := range created {
		entity, isEntity := strings.CutPrefix(id, "entity:")
		switch {
		case stored[id]:
		case isEntity && audited["dynamic_entity.delete"][entity] != 1:
			fault("acknowledged entity %s is gone without a delete entry", entity)
		case !isEntity && audited["dynamic_endpoint.delete"][id] != 1:
			fault("acknowledged document %s is gone without a delete entry", id)
		}
	}
	for id := range deleted {
		if stored[id] || stored["entity:"+id] {
			fault("acknowledged deletion of %s is undone", id)
		}
	}
	return faults
}
