package vonage

import (
	"context"
	"fmt"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// PhoneHealth is not offered: the Channel Manager's analytics API has no
// endpoint for a number's status, quality or limit (Capabilities says so,
// and the config turns account health off for Vonage).
func (c *Client) PhoneHealth(context.Context, string) ([]provider.PhoneNumber, error) {
	return nil, fmt.Errorf("reading the phone numbers' health: %w", provider.ErrUnsupported)
}

// TemplateHealth is not offered, for the same reason.
func (c *Client) TemplateHealth(context.Context, string) ([]provider.Template, error) {
	return nil, fmt.Errorf("reading the templates' status: %w", provider.ErrUnsupported)
}
