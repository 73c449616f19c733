package lab

import (
	"errors"
	"testing"
)

func TestInterceptNeedsNetns(t *testing.T) {
	tests := []struct {
		backend   Backend
		intercept bool
		want      error
	}{
		{"", true, ErrInterceptNeedsNetns},
		{BackendLocal, true, ErrInterceptNeedsNetns},
		{BackendContainer, true, ErrInterceptNeedsNetns},
		{BackendNetns, true, nil},
		{BackendLocal, false, nil},
		{BackendContainer, false, nil},
	}
	for _, tc := range tests {
		l := &Lab{spec: Spec{Backend: tc.backend}}
		if err := l.checkIntercept(DeviceOptions{Intercept: tc.intercept}); !errors.Is(err, tc.want) {
			t.Errorf("backend %q, intercept %v: %v, want %v", tc.backend, tc.intercept, err, tc.want)
		}
	}
}

func TestBackendSupports(t *testing.T) {
	tests := []struct {
		backend Backend
		feature Feature
		want    error
	}{
		{"", FeatureLinks, ErrNeedsNetns},
		{BackendNetns, FeatureLinks, nil},
		{BackendContainer, FeatureLinks, ErrNeedsNetns},
		{BackendLocal, FeatureAgentCommand, nil},
		{BackendNetns, FeatureAgentCommand, nil},
		{BackendContainer, FeatureAgentCommand, ErrAgentCommandInContainer},
		{BackendLocal, FeatureAgentImage, ErrAgentImageNeedsContainer},
		{BackendContainer, FeatureAgentImage, nil},
		{BackendLocal, FeatureOwnNetworkStack, ErrSharedNetworkStack},
		{BackendNetns, FeatureOwnNetworkStack, nil},
		{BackendContainer, FeatureOwnNetworkStack, nil},
		{BackendLocal, FeatureBench, nil},
		{BackendNetns, FeatureBench, nil},
		{BackendContainer, FeatureBench, ErrBenchBackend},
		{BackendKubernetes, FeatureLinks, nil},
		{BackendKubernetes, FeatureIntercept, ErrInterceptNeedsNetns},
		{BackendKubernetes, FeatureAgentCommand, ErrAgentCommandInContainer},
		{BackendKubernetes, FeatureAgentImage, nil},
		{BackendContainer, FeatureEngineAgentImage, nil},
		{BackendKubernetes, FeatureEngineAgentImage, ErrAgentImageNotOnEngine},
		{BackendNetns, FeatureEngineAgentImage, ErrAgentImageNotOnEngine},
		{BackendKubernetes, FeatureOwnNetworkStack, nil},
		{BackendKubernetes, FeatureHostProcesses, ErrNoHostPID},
		{BackendContainer, FeatureHostProcesses, nil},
		{BackendKubernetes, FeatureLinkCut, ErrLinkCutInPod},
		{BackendContainer, FeatureLinkCut, nil},
		{BackendLocal, FeatureLinkCut, ErrNeedsNetns},
		{BackendKubernetes, FeatureBench, nil},
		{BackendLocal, FeatureHostCommands, nil},
		{BackendNetns, FeatureHostCommands, nil},
		{BackendContainer, FeatureHostCommands, ErrNoHostCommands},
		{BackendKubernetes, FeatureHostCommands, ErrNoHostCommands},
	}
	for _, tc := range tests {
		err := tc.backend.Supports(tc.feature)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("Backend(%q).Supports(%d) = %v, want %v", tc.backend, tc.feature, err, tc.want)
		}
	}
}
