/**
 * The network of an OCI cluster as upstream's template lays it out: one VCN `10.0.0.0/16` named
 * after the cluster, four subnets and four network security groups with fixed rules.
 */
import type { OCIClusterSpec } from './generated/types.js';

/** The subnets of the VCN, by role. */
export const OCI_SUBNETS: {
  readonly vcn: '10.0.0.0/16';
  readonly controlPlaneEndpoint: '10.0.0.8/29';
  readonly serviceLb: '10.0.0.32/27';
  readonly controlPlane: '10.0.0.0/29';
  readonly worker: '10.0.64.0/20';
} = {
  vcn: '10.0.0.0/16',
  controlPlaneEndpoint: '10.0.0.8/29',
  serviceLb: '10.0.0.32/27',
  controlPlane: '10.0.0.0/29',
  worker: '10.0.64.0/20',
};

const ANYWHERE = '0.0.0.0/0';
const TCP = '6';
const UDP = '17';
const ICMP = '1';
const IP_IN_IP = '4';

type NetworkSpec = NonNullable<OCIClusterSpec['networkSpec']>;
type Nsg = NonNullable<NonNullable<NonNullable<NetworkSpec['vcn']>['networkSecurityGroup']>['list']>[number];
type Ingress = NonNullable<Nsg['ingressRules']>[number];
type Egress = NonNullable<Nsg['egressRules']>[number];

const range = (min: number, max = min) => ({ destinationPortRange: { max, min } });

function ingress(description: string, protocol: string, source: string, ports?: [number, number?]): Ingress {
  return {
    ingressRule: {
      description,
      isStateless: false,
      protocol,
      source,
      sourceType: 'CIDR_BLOCK',
      ...(ports === undefined
        ? {}
        : protocol === UDP
          ? { udpOptions: range(...ports) }
          : { tcpOptions: range(...ports) }),
    },
  };
}

const pathDiscovery = (): Ingress => ({
  ingressRule: {
    description: 'Path discovery',
    icmpOptions: { code: 4, type: 3 },
    isStateless: false,
    protocol: ICMP,
    source: OCI_SUBNETS.vcn,
    sourceType: 'CIDR_BLOCK',
  },
});

function egress(
  description: string,
  protocol: string,
  destination: string,
  ports?: [number, number?],
): Egress {
  return {
    egressRule: {
      description,
      destination,
      destinationType: 'CIDR_BLOCK',
      isStateless: false,
      protocol,
      ...(ports === undefined ? {} : { tcpOptions: range(...ports) }),
    },
  };
}

/** Rules both node NSGs share: BGP and IP-in-IP from both node subnets. */
function calico(): Ingress[] {
  const { controlPlane, worker } = OCI_SUBNETS;
  return [
    ingress('Calico networking (BGP)', TCP, controlPlane, [179]),
    ingress('Calico networking (BGP)', TCP, worker, [179]),
    ingress('Calico networking with IP-in-IP enabled', IP_IN_IP, controlPlane),
    ingress('Calico networking with IP-in-IP enabled', IP_IN_IP, worker),
  ];
}

function flannel(): Ingress[] {
  return [
    ingress('Flannel networking', UDP, OCI_SUBNETS.worker, [8472]),
    ingress('Flannel networking', UDP, OCI_SUBNETS.controlPlane, [8472]),
  ];
}

/** The `networkSpec` of the cluster's OCICluster: VCN, subnets and security groups. */
export function ociNetworkSpec(clusterName: string): NetworkSpec {
  const { controlPlaneEndpoint, serviceLb, controlPlane, worker, vcn } = OCI_SUBNETS;
  return {
    vcn: {
      name: clusterName,
      cidr: vcn,
      subnets: [
        {
          name: 'control-plane-endpoint',
          role: 'control-plane-endpoint',
          type: 'public',
          cidr: controlPlaneEndpoint,
        },
        { name: 'service-lb', role: 'service-lb', type: 'public', cidr: serviceLb },
        { name: 'control-plane', role: 'control-plane', type: 'private', cidr: controlPlane },
        { name: 'worker', role: 'worker', type: 'private', cidr: worker },
      ],
      networkSecurityGroup: {
        list: [
          {
            name: 'control-plane-endpoint',
            role: 'control-plane-endpoint',
            egressRules: [egress('Kubernetes API traffic to Control Plane', TCP, controlPlane, [6443])],
            ingressRules: [
              ingress('External access to Kubernetes API endpoint', TCP, ANYWHERE, [6443]),
              pathDiscovery(),
            ],
          },
          {
            name: 'control-plane',
            role: 'control-plane',
            egressRules: [egress('Control Plane access to Internet', 'all', ANYWHERE)],
            ingressRules: [
              ingress(
                'Kubernetes API endpoint to Control Plane(apiserver port) communication',
                TCP,
                controlPlaneEndpoint,
                [6443],
              ),
              ingress(
                'Control plane node to Control Plane(apiserver port) communication',
                TCP,
                controlPlane,
                [6443],
              ),
              ingress('Worker Node to Control Plane(apiserver port) communication', TCP, worker, [6443]),
              ingress('etcd client communication', TCP, controlPlane, [2379]),
              ingress('etcd peer', TCP, controlPlane, [2380]),
              ...calico(),
              pathDiscovery(),
              ingress('Inbound SSH traffic to Control Plane', TCP, ANYWHERE, [22]),
              ingress('Control Plane to Control Plane Kubelet Communication', TCP, controlPlane, [10250]),
              ...flannel(),
            ],
          },
          {
            name: 'worker',
            role: 'worker',
            egressRules: [egress('Worker node access to Internet', 'all', ANYWHERE)],
            ingressRules: [
              ingress('Inbound SSH traffic to worker node', TCP, ANYWHERE, [22]),
              pathDiscovery(),
              ingress('Control Plane to worker node Kubelet Communication', TCP, controlPlane, [10250]),
              ingress('Worker node to worker node Kubelet Communication', TCP, worker, [10250]),
              ...calico(),
              ingress('Worker node to default NodePort ingress communication', TCP, worker, [30000, 32767]),
              ...flannel(),
            ],
          },
          {
            name: 'service-lb',
            role: 'service-lb',
            egressRules: [
              egress(
                'Service LoadBalancer to default NodePort egress communication',
                TCP,
                worker,
                [30000, 32767],
              ),
            ],
            ingressRules: [
              pathDiscovery(),
              ingress('Accept http traffic on port 80', TCP, ANYWHERE, [80]),
              ingress('Accept https traffic on port 443', TCP, ANYWHERE, [443]),
            ],
          },
        ],
      },
    },
  };
}
