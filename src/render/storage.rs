//! The cluster's default StorageClass, as kind's clusters have one: local-path-provisioner
//! makes a directory under the node's /var (its volume) for each claim. Installed when the
//! node image carries the provisioner's image (dind's kit builds it); its helper pods, which
//! make and remove those directories, run the same image.

/// Where the manifest goes on the master before `kubectl apply`.
pub(crate) const MANIFEST_PATH: &str = "/etc/dind/storage.yaml";
/// The default StorageClass's name (kind's).
pub(crate) const CLASS: &str = "standard";
const NAMESPACE: &str = "local-path-storage";
const ACCOUNT: &str = "local-path-provisioner";
/// Where volumes live on a node: inside the /var volume, so they go with the node.
const VOLUMES_DIR: &str = "/var/local-path-provisioner";

/// The provisioner, its permissions, its configuration and the default class, for `image`.
pub(crate) fn manifest(image: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: {NAMESPACE}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {ACCOUNT}
  namespace: {NAMESPACE}
---
# Its helper pods, in its own namespace.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {ACCOUNT}
  namespace: {NAMESPACE}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, patch, update, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {ACCOUNT}
  namespace: {NAMESPACE}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {ACCOUNT}
subjects:
- kind: ServiceAccount
  name: {ACCOUNT}
  namespace: {NAMESPACE}
---
# Claims, the volumes it makes for them, and what it reads to decide where.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: dind:{ACCOUNT}
rules:
- apiGroups: [""]
  resources: [nodes, persistentvolumeclaims, configmaps, pods, pods/log]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [persistentvolumes]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [storage.k8s.io]
  resources: [storageclasses]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: dind:{ACCOUNT}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: dind:{ACCOUNT}
subjects:
- kind: ServiceAccount
  name: {ACCOUNT}
  namespace: {NAMESPACE}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-path-config
  namespace: {NAMESPACE}
data:
  config.json: |-
    {{"nodePathMap": [{{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["{VOLUMES_DIR}"]}}]}}
  setup: |-
    #!/bin/sh
    set -eu
    mkdir -m 0777 -p "$VOL_DIR"
  teardown: |-
    #!/bin/sh
    set -eu
    rm -rf "$VOL_DIR"
  helperPod.yaml: |-
    apiVersion: v1
    kind: Pod
    metadata:
      name: helper-pod
    spec:
      priorityClassName: system-node-critical
      tolerations:
      - key: node.kubernetes.io/disk-pressure
        operator: Exists
        effect: NoSchedule
      containers:
      - name: helper-pod
        image: {image}
        imagePullPolicy: IfNotPresent
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: local-path-provisioner
  namespace: {NAMESPACE}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: local-path-provisioner
  template:
    metadata:
      labels:
        app: local-path-provisioner
    spec:
      serviceAccountName: {ACCOUNT}
      nodeSelector:
        kubernetes.io/os: linux
      # A cluster of a master alone, or workers still joining, has it on the master.
      tolerations:
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
      containers:
      - name: local-path-provisioner
        image: {image}
        imagePullPolicy: IfNotPresent
        command: [local-path-provisioner, --debug, start, --helper-image, "{image}", --service-account-name, {ACCOUNT}, --config, /etc/config/config.json]
        env:
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        - name: CONFIG_MOUNT_PATH
          value: /etc/config/
        volumeMounts:
        - name: config
          mountPath: /etc/config/
      volumes:
      - name: config
        configMap:
          name: local-path-config
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {CLASS}
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_is_yaml_with_a_default_class_and_the_image_everywhere_it_runs() {
        let image = "dind.local/local-path-provisioner:v0.0.30";
        let text = manifest(image);
        let docs: Vec<yaml_serde::Value> = text
            .split("\n---\n")
            .map(|doc| yaml_serde::from_str(doc).expect("each document parses"))
            .collect();
        let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "Namespace",
                "ServiceAccount",
                "Role",
                "RoleBinding",
                "ClusterRole",
                "ClusterRoleBinding",
                "ConfigMap",
                "Deployment",
                "StorageClass"
            ]
        );
        let class = &docs[8];
        assert_eq!(class["metadata"]["name"].as_str(), Some(CLASS));
        assert_eq!(
            class["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"]
                .as_str(),
            Some("true")
        );
        let container = &docs[7]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"].as_str(), Some(image));
        // Its helper pods run as its own account, which it names.
        let command: Vec<&str> = container["command"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let named = command
            .windows(2)
            .find(|w| w[0] == "--service-account-name");
        assert_eq!(named.map(|w| w[1]), docs[1]["metadata"]["name"].as_str());
        let helper: yaml_serde::Value =
            yaml_serde::from_str(docs[6]["data"]["helperPod.yaml"].as_str().unwrap()).unwrap();
        assert_eq!(
            helper["spec"]["containers"][0]["image"].as_str(),
            Some(image)
        );
        let config: serde_json::Value =
            serde_json::from_str(docs[6]["data"]["config.json"].as_str().unwrap()).unwrap();
        assert_eq!(config["nodePathMap"][0]["paths"][0], VOLUMES_DIR);
    }
}
