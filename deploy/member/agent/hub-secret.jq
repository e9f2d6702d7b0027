# The agent's Secret in the member, from its token Secret on the hub:
#   kubectl -n PROFILE_NAMESPACE get secret orrery-agent-MEMBER_NAME -o json \
#     | jq --arg server HUB_URL --arg name MEMBER_NAME --arg namespace PROFILE_NAMESPACE -f hub-secret.jq
if (.data.token // "") == "" then error("the hub has not filled in the token yet: try again in a moment") else . end
| {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {name: "orrery-agent-hub", namespace: "orrery-system"},
    stringData: {
      "cluster-name": $name,
      "cluster-namespace": $namespace,
      kubeconfig: ({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{name: "hub", cluster: {server: $server, "certificate-authority-data": .data["ca.crt"]}}],
        users: [{name: "orrery-agent", user: {token: (.data.token | @base64d)}}],
        contexts: [{name: "hub", context: {cluster: "hub", user: "orrery-agent"}}],
        "current-context": "hub"
      } | tojson)
    }
  }
