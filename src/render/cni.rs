//! The node's standard CNI network config: bridge + host-local for the node's pod CIDRs,
//! plus portmap; the node masquerades what leaves the pod CIDRs (node_files).

use crate::plan::NodePlan;
use serde_json::{json, Value};

pub(crate) const CONFLIST_PATH: &str = "/etc/cni/net.d/10-dindnet.conflist";
pub(crate) const BRIDGE: &str = "dind0";

pub(crate) fn conflist(node: &NodePlan) -> String {
    let ranges: Vec<Value> = node
        .pod_cidrs
        .iter()
        .map(|cidr| json!([{ "subnet": cidr.to_string() }]))
        .collect();
    let config = json!({
        "cniVersion": "0.4.0",
        "name": "dindnet",
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": true,
                "isDefaultGateway": true,
                // The node masquerades its pods itself, sparing pod-to-pod traffic (see
                // node_files::masquerade_file); the plugin's ipMasq would rewrite that too.
                "ipMasq": false,
                "hairpinMode": true,
                // isDefaultGateway already adds the pod's default routes; ipam routes for
                // ::/0 as well make the bridge plugin fail with "file exists".
                "ipam": { "type": "host-local", "ranges": ranges }
            },
            { "type": "portmap", "capabilities": { "portMappings": true } }
        ]
    });
    let mut text = serde_json::to_string_pretty(&config).expect("a json! value serializes");
    text.push('\n');
    text
}
